#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace Kiln::Util {

std::string readFile(const std::filesystem::path& path);
std::optional<std::string> tryReadFile(const std::filesystem::path& path);
// Writes to a temporary sibling, fsyncs it and renames it over `path`: readers see old or new, never half.
void writeFileAtomic(const std::filesystem::path& path, std::string_view data, unsigned mode = 0644);

// A path inside a run or snapshot as the user names it: relative, '/'-separated, no '.', '..', empty
// components, NUL, backslash or control characters. Returns the normalised form or nothing.
std::optional<std::string> safeRelativePath(std::string_view path);

// The non-empty '/'-separated segments of a path ("a//b/" -> {"a", "b"}).
std::vector<std::string> splitSegments(std::string_view path);

// remove_all that also works on trees whose folders were made read-only (dataset mounts); errors ignored.
void removeTree(const std::filesystem::path& root);

double nowSeconds();
std::string formatTimestamp(double seconds);

} // namespace Kiln::Util
