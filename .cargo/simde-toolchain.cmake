# Use the SIMDe headers from Debian's libsimde-dev (/usr/include/simde) instead
# of cloning them from GitHub at build time.
set(FETCHCONTENT_SOURCE_DIR_SIMDE "/usr/include" CACHE PATH "SIMDe headers" FORCE)
