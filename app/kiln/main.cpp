// kiln: the command line. See core/cli/Cli.h.
#include "cli/Cli.h"

#include <iostream>

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    return Kiln::Cli::run(args, std::cout, std::cerr);
}
