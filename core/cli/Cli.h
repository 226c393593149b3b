#pragma once
#include <iosfwd>
#include <string>
#include <vector>

namespace Kiln::Cli {

// `kiln`: the command-line face of the client. Verbs and flags are a contract (DESIGN.md, "Interfaces");
// usage() documents them. Returns the process exit code: 0 success, 1 a run that did not complete
// (`run wait`), 2 any error (one line on `err`).
int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
std::string usage();

} // namespace Kiln::Cli
