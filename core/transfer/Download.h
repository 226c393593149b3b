#pragma once
#include "util/Json.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace Kiln::Api {
class Client;
}

namespace Kiln::Transfer {

// A file to fetch: its name in the download, its expected content and where the server serves it.
struct RemoteFile {
    std::string path;   // relative name in the download; refused when absolute or containing ".."
    std::string sha256; // what the bytes must hash to
    std::int64_t size = 0;
    std::string url; // API path, e.g. /api/v1/models/m/versions/1/files/model.npz
};

enum class Format { Folder, Zip, TarGz };
std::optional<Format> formatFromString(std::string_view s); // "folder", "zip", "tar.gz"/"tgz"
std::string extension(Format f);                            // "", ".zip", ".tar.gz"

struct Progress {
    std::int64_t bytesDone = 0;
    std::int64_t bytesTotal = 0;
    std::int64_t filesDone = 0;
    std::int64_t fileCount = 0;
    std::string current; // the file being fetched (two, ", "-separated, when two lanes fetch at once)
    double bytesPerSecond = 0;
    int resumes = 0; // dropped connections resumed so far
};

struct Options {
    Format format = Format::Folder;
    // Entries of an archive go under this folder (e.g. "keras-mnist-1"); empty puts them at its root.
    std::string archiveRoot;
    // Called every ~100 ms and after each file; returning false cancels the download.
    std::function<bool(const Progress&)> onProgress;
    int maxResumes = 8;              // per range, after a dropped connection
    std::uint64_t window = 8u << 20; // bytes per range request
    int connections = 2;             // range requests in flight at once
    std::size_t ahead = 6;           // ranges held at most (fetched, not yet hashed and written): 48 MB
};

struct Result {
    std::filesystem::path written; // the folder or the archive
    std::int64_t bytes = 0;
    std::int64_t files = 0;
    int resumes = 0;
    double seconds = 0;
};

// Downloads `files` into the folder `dest` (Format::Folder: dest/<path>) or into the archive file `dest`.
// Ranges of the files are fetched over several connections at once while a thread hashes them (SHA-256) and
// another writes what came, in order; a folder of several large files is fetched on two such lanes, each
// hashing on its own core. A dropped connection is resumed with a Range request.
// All or nothing: files are staged (in a hidden folder inside `dest`, or `dest`.kiln-part for an archive)
// and moved into place only once every file is verified; on any error or cancel nothing is left behind.
// Throws Api::ClientError; a cancel throws one whose message is "download canceled". A cancel or a failure
// cancels every request `client` has in flight (give a download a client of its own).
Result download(Api::Client& client, const std::vector<RemoteFile>& files, const std::filesystem::path& dest,
                const Options& options = {});

// The API path of a file under `base` (".../files"), each path segment percent-encoded.
std::string fileUrl(const std::string& base, const std::string& path);
// The files of a listing as the API answers it ([{path, sha256, size}]), served under `base` (".../files").
std::vector<RemoteFile> remoteFiles(const Json& listing, const std::string& base);

} // namespace Kiln::Transfer
