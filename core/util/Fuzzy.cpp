#include "Fuzzy.h"

#include <algorithm>
#include <cctype>

namespace Kiln::Util {

static char lower(char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

static bool wordStart(std::string_view text, std::size_t i) {
    if (i == 0)
        return true;
    const unsigned char prev = static_cast<unsigned char>(text[i - 1]),
                        cur = static_cast<unsigned char>(text[i]);
    return !std::isalnum(prev) || (std::islower(prev) && std::isupper(cur));
}

int fuzzyScore(std::string_view pattern, std::string_view text) {
    int score = 0;
    std::size_t t = 0;
    bool previousMatched = false;
    for (std::size_t p = 0; p < pattern.size(); ++p) {
        if (pattern[p] == ' ') { // spaces separate words of the pattern; they need not match
            previousMatched = false;
            continue;
        }
        while (t < text.size() && lower(text[t]) != lower(pattern[p])) {
            ++t;
            previousMatched = false;
        }
        if (t == text.size())
            return -1;
        score += 1;
        if (previousMatched)
            score += 8; // consecutive
        if (wordStart(text, t))
            score += t == 0 ? 8 : 6;
        previousMatched = true;
        ++t;
    }
    return pattern.empty() ? 0
                           : score * 100 / static_cast<int>(std::max<std::size_t>(1, pattern.size())) -
                                 static_cast<int>(text.size() / 4);
}

std::optional<std::string> nearestWord(std::string_view word, const std::vector<std::string>& choices) {
    const auto distance = [](std::string_view a, std::string_view b) {
        std::vector<std::size_t> row(b.size() + 1);
        for (std::size_t j = 0; j <= b.size(); ++j)
            row[j] = j;
        for (std::size_t i = 1; i <= a.size(); ++i) {
            std::size_t diagonal = row[0];
            row[0] = i;
            for (std::size_t j = 1; j <= b.size(); ++j) {
                const auto up = row[j];
                row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
                diagonal = up;
            }
        }
        return row[b.size()];
    };
    std::optional<std::string> best;
    std::size_t bestDistance = std::max<std::size_t>(1, word.size() / 3) + 1;
    for (const auto& c : choices) {
        if (c == word)
            return std::nullopt;
        if (const auto d = distance(word, c); d < bestDistance) {
            best = c;
            bestDistance = d;
        }
    }
    return best;
}

} // namespace Kiln::Util
