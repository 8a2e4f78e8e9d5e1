import {events, models} from "@janhq/core"
events.on('assistant:asst_abc123', async (event) => {
    const result = await models[0].process(event)
    events.emit("assistant:asst_abc123", result)
})
