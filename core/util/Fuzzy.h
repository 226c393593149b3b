#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace Kiln::Util {

// How well `pattern` matches `text` as a fuzzy search (the command palette): every pattern character must
// appear in order, case-insensitively; runs of consecutive characters, matches at word starts and at the
// beginning score higher, and shorter texts win ties. -1 when it does not match; an empty pattern scores 0.
int fuzzyScore(std::string_view pattern, std::string_view text);

// The choice nearest to a mistyped `word` by edit distance (at most a third of its letters off, at least
// one), for "did you mean ...?"; nothing when none is that near or the word is itself a choice.
std::optional<std::string> nearestWord(std::string_view word, const std::vector<std::string>& choices);

} // namespace Kiln::Util
