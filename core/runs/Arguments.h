#pragma once
#include <string>
#include <utility>
#include <vector>

namespace Kiln::Runs {

// A run's command-line arguments as (name, value) pairs, for comparing runs: "--lr 0.01" and "--lr=0.01"
// give ("--lr", "0.01"); a flag followed by another option or nothing gives ("--flag", "true"); other
// words are positional: ("#1", word), ("#2", ...).
std::vector<std::pair<std::string, std::string>> parseArguments(const std::vector<std::string>& args);

} // namespace Kiln::Runs
