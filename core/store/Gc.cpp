#include "Gc.h"

#include "store/BlobStore.h"
#include "store/Database.h"
#include "util/Crypto.h"
#include "util/Json.h"

#include <filesystem>
#include <sys/stat.h>
#include <time.h>

namespace fs = std::filesystem;

namespace Kiln::Store {

namespace {

std::set<std::string> referenced(Database& db) {
    std::set<std::string> out;
    auto lock = db.lock();
    for (const char* sql :
         {"SELECT blob FROM run_files", "SELECT blob FROM dataset_files", "SELECT blob FROM model_files"}) {
        auto st = db.prepare(sql);
        while (st.step())
            out.insert(st.text(0));
    }
    auto st = db.prepare("SELECT manifest FROM snapshots");
    while (st.step()) {
        try {
            const auto manifest = Json::parse(st.text(0));
            for (const auto& f : manifest.at("files"))
                if (f.contains("sha256"))
                    out.insert(f["sha256"].get<std::string>());
        } catch (const std::exception&) { // a manifest that does not parse refers to nothing it can name
        }
    }
    return out;
}

bool older(const fs::path& file, std::chrono::seconds grace, std::int64_t& size) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0)
        return false;
    size = st.st_size;
    return ::time(nullptr) - st.st_mtime >= grace.count();
}

} // namespace

GcResult collectGarbage(Database& db, const BlobStore& blobs, std::chrono::seconds grace,
                        const std::set<std::string>* only) {
    GcResult r;
    const auto refs = referenced(db);
    auto consider = [&](const std::string& hash) {
        const auto path = blobs.pathOf(hash);
        if (refs.count(hash)) {
            ++r.kept;
            return;
        }
        std::int64_t size = 0;
        if (!older(path, grace, size)) {
            r.tooYoung += fs::exists(path) ? 1 : 0;
            return;
        }
        std::error_code ec;
        if (fs::remove(path, ec)) {
            ++r.removed;
            r.bytesFreed += size;
        }
    };
    if (only) {
        for (const auto& hash : *only)
            if (Util::isSha256Hex(hash))
                consider(hash);
        return r;
    }
    std::error_code ec;
    for (const auto& dir : fs::directory_iterator(blobs.root(), ec)) {
        const auto name = dir.path().filename().string();
        if (name == "tmp") { // writes a crashed process left half done
            for (const auto& f : fs::directory_iterator(dir.path(), ec)) {
                std::int64_t size = 0;
                if (older(f.path(), grace, size) && fs::remove(f.path(), ec))
                    r.bytesFreed += size;
            }
            continue;
        }
        if (name.size() != 2 || !dir.is_directory())
            continue;
        for (const auto& f : fs::directory_iterator(dir.path(), ec)) {
            const auto hash = f.path().filename().string();
            if (Util::isSha256Hex(hash) && hash.starts_with(name))
                consider(hash);
        }
    }
    return r;
}

} // namespace Kiln::Store
