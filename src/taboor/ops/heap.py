"""The garbage collector of a server process.

Profiled under load (bench/README.md): a full collection walked every object the
process had built at startup (the framework's routes, the statements built once, the
imported modules) and paused the event loop for 60-130 ms twice in ten seconds, so
one request in a hundred waited that long. Those objects live as long as the process,
so once startup is over they are moved out of the collector's sight; later full
collections walk only what the process made since.
"""

from __future__ import annotations

import gc


async def freeze_startup_heap() -> None:
    """An ``on_startup`` hook of the server app: collect what startup left behind, then
    freeze the rest (it is kept for the life of the process anyway)."""
    gc.collect()
    gc.freeze()
