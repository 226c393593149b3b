#include "Snapshot.h"

#include "store/BlobStore.h"
#include "util/Crypto.h"
#include "util/Error.h"
#include "util/FolderScan.h"
#include "util/Fs.h"

#include <algorithm>
#include <set>

namespace fs = std::filesystem;

namespace Kiln::Runs {

static constexpr std::size_t kMaxFiles = 20000;
static constexpr std::uint64_t kMaxBytes = 2ull << 30;
static constexpr std::uint64_t kWarnBytes = 100ull << 20; // warned about, not refused
static constexpr std::size_t kWarnFiles = 2000;

Snapshot Snapshot::scan(const fs::path& folder) {
    std::error_code ec;
    if (!fs::is_directory(folder, ec))
        throw badRequest("source folder does not exist: " + folder.string());
    auto scanned = Util::scanFolder(folder, {"outputs", "logs"});
    if (scanned.files.size() + scanned.links.size() > kMaxFiles || scanned.totalBytes > kMaxBytes)
        throw badRequest("source folder is too large for a snapshot (over 20000 files or 2 GB): " +
                         folder.string() + " (list what the run does not need in a .kilnignore file)");
    Snapshot snap;
    snap.warnings = scanned.warnings("source folder", kWarnBytes, kWarnFiles);
    for (auto& f : scanned.files) {
        SnapshotEntry e;
        e.path = f.path;
        e.source = f.source;
        e.size = f.size;
        e.executable = f.executable;
        e.sha256 = Util::sha256File(f.source);
        snap.files.push_back(std::move(e));
    }
    for (auto& l : scanned.links) {
        SnapshotEntry e;
        e.path = l.path;
        e.link = l.target;
        snap.files.push_back(std::move(e));
    }
    std::sort(snap.files.begin(), snap.files.end(), [](auto& a, auto& b) { return a.path < b.path; });
    return snap;
}

Snapshot Snapshot::fromManifest(const Json& manifest) {
    if (!manifest.is_object() || !manifest.contains("files") || !manifest["files"].is_array())
        throw badRequest("snapshot must be an object with a 'files' array");
    const auto& files = manifest["files"];
    if (files.size() > kMaxFiles)
        throw badRequest("snapshot has too many files");
    Snapshot snap;
    std::set<std::string> seen;
    for (const auto& f : files) {
        if (!f.is_object() || !f.contains("path") || !f["path"].is_string())
            throw badRequest("each snapshot file needs a path");
        auto path = Util::safeRelativePath(f["path"].get<std::string>());
        if (!path)
            throw badRequest("unsafe path in snapshot: " + f["path"].get<std::string>().substr(0, 200));
        if (f.contains("link")) {
            // A link must stay inside the folder: its target, read from the link's own folder, may climb
            // no higher than the folder's top.
            if (!f["link"].is_string())
                throw badRequest("the link " + *path + " needs its target as a string");
            const auto target = f["link"].get<std::string>();
            const auto joined = (fs::path(*path).parent_path() / target).lexically_normal().generic_string();
            if (target.empty() || target.front() == '/' || !Util::safeRelativePath(joined))
                throw badRequest("the link " + *path + " leads outside the source folder");
            if (!seen.insert(*path).second)
                throw badRequest("duplicate path in snapshot: " + *path);
            SnapshotEntry e;
            e.path = *path;
            e.link = target;
            snap.files.push_back(std::move(e));
            continue;
        }
        if (!f.contains("sha256") || !f["sha256"].is_string() || !f.contains("size") ||
            !f["size"].is_number_unsigned())
            throw badRequest("each snapshot file needs path, sha256 and size");
        auto hash = f["sha256"].get<std::string>();
        if (!Util::isSha256Hex(hash))
            throw badRequest("bad sha256 for " + *path);
        if (!seen.insert(*path).second)
            throw badRequest("duplicate path in snapshot: " + *path);
        SnapshotEntry e;
        e.path = *path;
        e.sha256 = hash;
        e.size = f["size"].get<std::uint64_t>();
        e.executable = f.value("executable", false);
        snap.files.push_back(std::move(e));
    }
    std::sort(snap.files.begin(), snap.files.end(), [](auto& a, auto& b) { return a.path < b.path; });
    return snap;
}

Json Snapshot::manifest() const {
    Json list = Json::array();
    for (const auto& f : files) {
        if (!f.link.empty())
            list.push_back({{"path", f.path}, {"link", f.link}});
        else
            list.push_back(
                {{"path", f.path}, {"sha256", f.sha256}, {"size", f.size}, {"executable", f.executable}});
    }
    return {{"files", list}};
}

std::string Snapshot::hash() const {
    return Util::sha256Hex(manifest().dump());
}

std::uint64_t Snapshot::totalSize() const {
    std::uint64_t t = 0;
    for (const auto& f : files)
        t += f.size;
    return t;
}

bool Snapshot::contains(const std::string& path) const {
    return std::any_of(files.begin(), files.end(), [&](auto& f) { return f.path == path; });
}

void Snapshot::materialize(const Store::BlobStore& blobs, const fs::path& dest) const {
    for (const auto& f : files) {
        if (!f.link.empty()) {
            fs::create_directories((dest / f.path).parent_path());
            fs::create_symlink(f.link, dest / f.path);
        } else {
            blobs.copyOut(f.sha256, dest / f.path, f.executable ? 0755 : 0644);
        }
    }
}

} // namespace Kiln::Runs
