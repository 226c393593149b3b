#include "Arguments.h"

namespace Kiln::Runs {

static bool isOption(const std::string& s) {
    // "-1" or "-0.5" are values, not options.
    return s.size() > 1 && s[0] == '-' && !(s[1] >= '0' && s[1] <= '9') && s[1] != '.';
}

std::vector<std::pair<std::string, std::string>> parseArguments(const std::vector<std::string>& args) {
    std::vector<std::pair<std::string, std::string>> out;
    int positional = 0;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& a = args[i];
        if (!isOption(a)) {
            out.emplace_back("#" + std::to_string(++positional), a);
        } else if (auto eq = a.find('='); eq != std::string::npos) {
            out.emplace_back(a.substr(0, eq), a.substr(eq + 1));
        } else if (i + 1 < args.size() && !isOption(args[i + 1])) {
            out.emplace_back(a, args[i + 1]);
            ++i;
        } else {
            out.emplace_back(a, "true");
        }
    }
    return out;
}

} // namespace Kiln::Runs
