//! Event round trips per second between two assistants (bench/assistants
//! ping and pong) over the bus. Prints `{"n": .., "ms": ..}` like
//! bench/node/pingpong.mjs.

use std::path::Path;
use std::sync::Arc;

use jan_host::{Ask, Host, Item, NoModels};

fn main() -> anyhow::Result<()> {
    let n: u64 = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(20_000);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("assistants");
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let host = Host::new(jan_events::Bus::new(), Arc::new(NoModels));
        host.load(&root.join("pong"))?;
        host.load(&root.join("ping"))?;
        let ask = Ask {
            messages: vec![Item::user(n.to_string())],
            ..Ask::default()
        };
        let text = host
            .ask("ping", ask)
            .await?
            .text()
            .await
            .map_err(anyhow::Error::msg)?;
        println!("{text}");
        Ok(())
    })
}
