#pragma once
#include <string_view>

namespace Kiln::Util {

// How well `pattern` matches `text` as a fuzzy search (the command palette): every pattern character must
// appear in order, case-insensitively; runs of consecutive characters, matches at word starts and at the
// beginning score higher, and shorter texts win ties. -1 when it does not match; an empty pattern scores 0.
int fuzzyScore(std::string_view pattern, std::string_view text);

} // namespace Kiln::Util
