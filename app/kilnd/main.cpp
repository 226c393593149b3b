// kilnd: the workspace server. See core/server/Daemon.h and core/api/API.md.
#include "runs/Supervisor.h"
#include "server/Daemon.h"
#include "workspace/Workspace.h"

#include <cstring>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
    if (argc == 3 && std::strcmp(argv[1], "__supervise") == 0)
        return Kiln::Runs::superviseMain(argv[2]);
    if (argc >= 5 && std::strcmp(argv[1], "__supervise-job") == 0 && std::strcmp(argv[3], "--") == 0)
        return Kiln::Runs::superviseJobMain(argv[2], argv + 4);
    Kiln::Server::DaemonOptions options;
    std::optional<std::string> workspace;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::cerr << "kilnd: " << a << " needs a value\n";
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--version") {
            std::cout << "kilnd " << KILN_VERSION << "\n";
            return 0;
        } else if (a == "--workspace") {
            workspace = value();
        } else if (a == "--port") {
            options.port = std::stoi(value());
        } else if (a == "--host") {
            options.host = value();
        } else if (a == "--max-concurrent") {
            options.maxConcurrent = std::stoi(value());
        } else if (a == "--tls-cert") {
            options.tlsCertificate = value();
        } else if (a == "--tls-key") {
            options.tlsKey = value();
        } else if (a == "--max-points-per-second") {
            options.maxPointsPerSecond = std::stod(value());
        } else {
            std::cerr << "usage: kilnd [--workspace DIR] [--port N] [--host 127.0.0.1] [--max-concurrent N] "
                         "[--max-points-per-second N] [--tls-cert PEM --tls-key PEM] [--version]\n";
            return 2;
        }
    }
    auto loc = Kiln::Workspace::locate(workspace);
    if (loc.remote()) {
        std::cerr << "kilnd: the workspace configured here is remote (" << loc.url << ")\n";
        return 2;
    }
    options.workspace = loc.dir;
    try {
        return Kiln::Server::runDaemon(options);
    } catch (const std::exception& e) {
        std::cerr << "kilnd: " << e.what() << "\n";
        return 1;
    }
}
