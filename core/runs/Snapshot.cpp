#include "Snapshot.h"

#include "store/BlobStore.h"
#include "util/Crypto.h"
#include "util/Error.h"
#include "util/Fs.h"

#include <algorithm>
#include <set>

namespace fs = std::filesystem;

namespace Kiln::Runs {

static constexpr std::size_t kMaxFiles = 20000;
static constexpr std::uint64_t kMaxBytes = 2ull << 30;

Snapshot Snapshot::scan(const fs::path& folder) {
    std::error_code ec;
    if (!fs::is_directory(folder, ec))
        throw badRequest("source folder does not exist: " + folder.string());
    static const std::set<std::string> skipped = {".git", "__pycache__", ".kiln", "outputs", "logs"};
    Snapshot snap;
    std::uint64_t total = 0;
    for (auto it = fs::recursive_directory_iterator(folder, fs::directory_options::skip_permission_denied);
         it != fs::recursive_directory_iterator(); ++it) {
        const auto name = it->path().filename().string();
        if (it->is_directory() && (skipped.count(name) || (it.depth() == 0 && name == "outputs"))) {
            it.disable_recursion_pending();
            continue;
        }
        if (!it->is_regular_file())
            continue;
        auto rel = fs::relative(it->path(), folder).generic_string();
        auto safe = Util::safeRelativePath(rel);
        if (!safe)
            throw badRequest("cannot snapshot a file with this name: " + rel);
        SnapshotEntry e;
        e.path = *safe;
        e.source = it->path();
        e.size = it->file_size();
        e.executable = (it->status().permissions() & fs::perms::owner_exec) != fs::perms::none;
        e.sha256 = Util::sha256File(it->path());
        total += e.size;
        snap.files.push_back(std::move(e));
        if (snap.files.size() > kMaxFiles || total > kMaxBytes)
            throw badRequest("source folder is too large for a snapshot (over 20000 files or 2 GB): " +
                             folder.string());
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
        if (!f.is_object() || !f.contains("path") || !f["path"].is_string() || !f.contains("sha256") ||
            !f["sha256"].is_string() || !f.contains("size") || !f["size"].is_number_unsigned())
            throw badRequest("each snapshot file needs path, sha256 and size");
        auto path = Util::safeRelativePath(f["path"].get<std::string>());
        if (!path)
            throw badRequest("unsafe path in snapshot: " + f["path"].get<std::string>().substr(0, 200));
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
    for (const auto& f : files)
        list.push_back(
            {{"path", f.path}, {"sha256", f.sha256}, {"size", f.size}, {"executable", f.executable}});
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
    for (const auto& f : files)
        blobs.copyOut(f.sha256, dest / f.path, f.executable ? 0755 : 0644);
}

} // namespace Kiln::Runs
