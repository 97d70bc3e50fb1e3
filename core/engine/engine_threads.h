// How many threads the engine uses: the ZFVIS_THREADS cap over what a caller asks for.
// setEngineThreads (engine.h) and the engine's own OpenMP loops go through engineThreads.
#pragma once

namespace zfvis {

/// The threads a computation uses: `requested` when positive, else OpenMP's current maximum,
/// at most ZFVIS_THREADS when that holds a whole number from 1 to 1024 (other values are ignored).
/// The sanitizer runs set it to 1; users can cap the GUI's and the CLI's threads with it.
int engineThreads(int requested);

/// ZFVIS_THREADS's value as a cap: the number for "1".."1024", 0 (no cap) for anything else.
int parseThreadCap(const char* value);

}  // namespace zfvis
