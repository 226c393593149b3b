#pragma once
// The `kiln` command implementation, split by noun: Cli.cpp (parsing, workspace, server),
// RunCommands.cpp, ResourceCommands.cpp (datasets, environments, compute), ModelCommands.cpp (models and
// downloads), SweepCommands.cpp.
#include "util/Json.h"

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace Kiln::Api {
class Client;
}
namespace Kiln::Transfer {
struct RemoteFile;
}
namespace Kiln::Workspace {
struct Location;
}

namespace Kiln::Cli {

class CliError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Parsed command line: positional words, --flags (repeatable), and everything after `--`.
struct Args {
    std::vector<std::string> words;
    std::map<std::string, std::vector<std::string>> flags;
    std::vector<std::string> rest;

    bool has(const std::string& f) const { return flags.count(f) > 0; }
    std::optional<std::string> opt(const std::string& f) const {
        auto it = flags.find(f);
        return it == flags.end() || it->second.empty() ? std::nullopt : std::optional(it->second.back());
    }
    std::string need(const std::string& f) const {
        auto v = opt(f);
        if (!v)
            throw CliError("missing --" + f);
        return *v;
    }
    std::string word(std::size_t i, const char* what) const {
        if (i >= words.size())
            throw CliError(std::string("missing ") + what);
        return words[i];
    }
};

std::int64_t parseRunId(const std::string& s, const char* what = "run"); // a positive id
std::string duration(const Json& run);
std::string number(const Json& v);
std::string bytes(std::int64_t n);
// NAME or NAME:VERSION -> the API path of that dataset (or model) version ("latest" without a version).
std::string versionPath(const std::string& spec, const char* collection = "datasets");

// One invocation: the parsed arguments, the output streams and the client (connected on first use).
class Command {
public:
    Command(const Args& a, std::ostream& out, std::ostream& err);
    ~Command();

    Workspace::Location location() const;
    Api::Client& client();
    void print(const Json& j);

    int workspace();
    int server();
    int runs();
    int datasets();
    int environments();
    int compute();
    int models();
    int sweeps(); // SweepCommands.cpp
    int experiments();

private:
    void printRunLine(const Json& r, const std::vector<std::string>& extra = {});
    void printRun(const Json& r);
    int finalStatus(const Json& run);
    // Verified download (--format folder|zip|tar.gz) into the folder `dest`; an archive is named
    // archiveName + extension and holds the files under archiveName/. Prints and returns a summary.
    Json downloadFiles(const std::vector<Transfer::RemoteFile>& files, const std::filesystem::path& dest,
                       const std::string& archiveName);

    const Args& m_a;
    std::ostream& m_out;
    std::ostream& m_err;
    bool m_json = false;
    std::unique_ptr<Api::Client> m_client;
};

} // namespace Kiln::Cli
