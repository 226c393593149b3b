#pragma once
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

namespace Kiln::Api {
class Client;
}

namespace Kiln::Workspace {

// Where a command's workspace is, found like Workspace.from_config(): an explicit --workspace, then
// $KILN_WORKSPACE, then a .kiln/config.json in the current folder or one above it, else the default local
// workspace under the user's data folder. A config names a local folder ({"workspace": "DIR"}) or a remote
// server ({"url": "https://host:port", "token": "..."}).
struct Location {
    std::filesystem::path dir; // local workspace folder (empty when remote)
    std::string url;           // remote server (empty when local)
    std::string token;
    std::string caFile; // remote over https with a private CA or self-signed certificate: its PEM file
    std::string source; // how it was found, for `kiln workspace info`
    bool remote() const { return !url.empty(); }
};

Location locate(const std::optional<std::string>& explicitWorkspace);
std::filesystem::path defaultDir();

// kilnd writes this file (mode 0600) when it listens; clients read the URL and token from it.
struct ServerInfo {
    std::string url;
    int port = 0;
    std::string token;
    long pid = 0;
    std::string caFile; // https: the certificate to verify it with (its own, when self-signed)
    std::string note;   // what starting it did besides, for the user (the sample dataset registered)
};
std::filesystem::path serverInfoPath(const std::filesystem::path& dir);
std::optional<ServerInfo> readServerInfo(const std::filesystem::path& dir);
void writeServerInfo(const std::filesystem::path& dir, const ServerInfo& info);

// A folder beside this program's executable, or the source tree's resources/ when run from a build.
std::filesystem::path resourcesDir();
std::filesystem::path siblingExecutable(const std::string& name);

// For a local workspace: the URL and token of its kilnd, starting one (detached, so runs outlive the caller)
// when none answers. Throws std::runtime_error with the reason when it cannot. The first time it starts a
// workspace's kilnd (the CLI, the SDK and the studio all come this way), the Fashion-MNIST sample is
// registered as dataset "fashion-mnist" when Debian's files are installed (seedSampleDataset), once: the
// marker file `sample-dataset` remembers it, so a user who deletes the dataset does not get it back.
ServerInfo ensureServer(const std::filesystem::path& dir,
                        std::chrono::milliseconds timeout = std::chrono::seconds(15));
// The default workspace comes with the sample's data: registers Debian's Fashion-MNIST files
// (/usr/share/datasets/fashion-mnist) as dataset "fashion-mnist" unless the workspace has it already.
// Returns false when the files are not installed.
bool seedSampleDataset(Api::Client& client);

// Whether the kilnd named in the server file answers.
std::optional<ServerInfo> runningServer(const std::filesystem::path& dir);

} // namespace Kiln::Workspace
