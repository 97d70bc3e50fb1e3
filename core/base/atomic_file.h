// Atomic file writes: data goes to a temporary file in the target's folder, then is renamed over
// the target, so a failure never leaves a half-written file behind. The temporary file is named
// "<target>.tmp.<pid>.<n>"; one left by a process that was killed (kill -9, power loss) is removed
// by the next write of the same target, once no process with that id runs any more.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace zfvis {

/// Writes `bytes` to `path` atomically; throws Error naming the file on failure. First removes
/// the temporary files of earlier writes of `path` whose process is gone (removeStaleTempFiles).
void writeFileAtomic(const std::filesystem::path& path, std::string_view bytes);

/// Throws the Error writeFileAtomic(path) would throw for a missing or unwritable folder or a
/// folder in the place of the file ("cannot write 'PATH': No such file or directory"), so
/// commands can refuse a bad output path before they compute anything.
void checkWritable(const std::filesystem::path& path);

/// True when a process with this id exists (it may belong to another user), false when none does.
bool processAlive(long pid);
/// The process id in a leftover's name "<prefix><pid><separator><rest>" where `rest` is non-empty
/// and every character of it is in `restChars`; -1 when `name` does not have that form.
long leftoverPid(std::string_view name, std::string_view prefix, char separator,
                 std::string_view restChars);
/// Removes "<path>.tmp.<pid>.<n>" files (never folders) next to `path` whose process is gone; a
/// live process's temporary files, and anything else, are left alone. Errors are ignored.
void removeStaleTempFiles(const std::filesystem::path& path);

/// Reads a whole file; throws Error naming the file on failure. Refuses files over `maxBytes`.
std::string readFile(const std::filesystem::path& path, size_t maxBytes = size_t(1) << 32);

}  // namespace zfvis
