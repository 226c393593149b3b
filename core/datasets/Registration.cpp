#include "Registration.h"

#include "datasets/DatasetStore.h"
#include "datasets/UrlFetcher.h"
#include "store/BlobStore.h"
#include "util/Error.h"
#include "util/FolderScan.h"
#include "util/Fs.h"

#include <chrono>
#include <filesystem>
#include <set>

namespace fs = std::filesystem;

namespace Kiln::Datasets {

namespace {

constexpr std::size_t kMaxFiles = 1'000'000;

std::string stringField(const Json& j, const char* key, std::size_t maxLen, bool required = false) {
    if (!j.contains(key) || j[key].is_null()) {
        if (required)
            throw badRequest(std::string("'") + key + "' is required");
        return {};
    }
    if (!j[key].is_string())
        throw badRequest(std::string("'") + key + "' must be a string");
    auto s = j[key].get<std::string>();
    if (s.size() > maxLen)
        throw badRequest(std::string("'") + key + "' is longer than " + std::to_string(maxLen) +
                         " characters");
    if (s.find('\0') != std::string::npos)
        throw badRequest(std::string("'") + key + "' contains NUL");
    return s;
}

struct Pending {
    std::string name;
    fs::path file; // local
    std::string url;
    std::string sha256;
    std::uint64_t size = 0; // known for local files
};

} // namespace

RegisterRequest parseRegisterRequest(const Json& body) {
    RegisterRequest r;
    r.name = stringField(body, "name", 10000, true);
    if (!isValidName(r.name))
        throw badRequest(
            "dataset name must be 1-100 letters, digits, '.', '_' or '-', start with a letter or digit, "
            "and not contain '..'");
    r.description = stringField(body, "description", 10000);
    if (body.contains("tags") && !body["tags"].is_null()) {
        if (!body["tags"].is_object() || body["tags"].size() > 100)
            throw badRequest("'tags' must be an object of at most 100 entries");
        for (const auto& [k, v] : body["tags"].items()) {
            if (k.empty() || k.size() > 250 || !v.is_string() || v.get<std::string>().size() > 1000)
                throw badRequest(
                    "tags must map names (1-250 characters) to strings (at most 1000 characters)");
        }
        r.tags = body["tags"];
    }
    if (body.contains("new_version")) {
        if (!body["new_version"].is_boolean())
            throw badRequest("'new_version' must be true or false");
        r.newVersion = body["new_version"].get<bool>();
    }
    if (!body.contains("sources") || !body["sources"].is_array() || body["sources"].empty() ||
        body["sources"].size() > 10000)
        throw badRequest("'sources' must list 1 to 10000 files, folders or URLs");
    for (const auto& s : body["sources"]) {
        if (!s.is_object())
            throw badRequest("each source is {\"path\": ...} or {\"url\": ...}");
        Source src;
        src.path = stringField(s, "path", 4096);
        src.url = stringField(s, "url", 8192);
        src.sha256 = stringField(s, "sha256", 64);
        src.name = stringField(s, "name", 1000);
        if (src.path.empty() == src.url.empty())
            throw badRequest("each source needs exactly one of 'path' or 'url'");
        if (!src.path.empty() && !fs::path(src.path).is_absolute())
            throw badRequest("source paths must be absolute: " + src.path);
        if (!src.name.empty() && !Util::safeRelativePath(src.name))
            throw badRequest("not a safe file name: " + src.name);
        r.sources.push_back(std::move(src));
    }
    return r;
}

Json registerDataset(const RegisterRequest& request, Store::BlobStore& blobs, DatasetStore& store,
                     const Reporter& reporter) {
    // 1. What will be registered, under which names.
    std::vector<Pending> pending;
    std::vector<std::string> warnings; // links skipped, names that cannot be stored
    std::set<std::string> names;
    auto add = [&](Pending p) {
        auto safe = Util::safeRelativePath(p.name);
        if (!safe)
            throw badRequest("cannot register a file named '" + p.name + "'");
        p.name = *safe;
        if (!names.insert(p.name).second)
            throw badRequest("two sources give the same file name: " + p.name);
        if (pending.size() >= kMaxFiles)
            throw badRequest("too many files (more than 1000000)");
        pending.push_back(std::move(p));
    };
    for (const auto& s : request.sources) {
        if (!s.url.empty()) {
            std::string name = s.name;
            if (name.empty()) {
                auto path = s.url.substr(0, s.url.find_first_of("?#"));
                name = path.substr(path.find_last_of('/') + 1);
            }
            if (name.empty())
                throw badRequest("cannot tell a file name for " + s.url + "; give one with 'name'");
            add({name, {}, s.url, s.sha256, 0});
            continue;
        }
        std::error_code ec;
        const fs::path root(s.path);
        if (fs::is_regular_file(root, ec)) {
            add({root.filename().string(), root, {}, {}, fs::file_size(root)});
        } else if (fs::is_directory(root, ec)) {
            // The same rules as a run's source folder (ignore files, .git/.venv skipped, no link followed
            // out of the folder). A link to a file inside is registered under its own name too (its
            // content is stored once); a link to a folder inside adds nothing its target does not.
            auto scanned = Util::scanFolder(root);
            for (const auto& w : scanned.warnings("dataset folder " + root.filename().string(),
                                                  ~std::uint64_t(0), ~std::size_t(0)))
                warnings.push_back(w);
            for (const auto& f : scanned.files)
                add({f.path, f.source, {}, {}, f.size});
            for (const auto& l : scanned.links)
                if (!l.toFolder)
                    add({l.path, l.resolved, {}, {}, fs::file_size(l.resolved, ec)});
        } else {
            throw badRequest("no such file or folder: " + s.path);
        }
    }
    if (pending.empty())
        throw badRequest("the sources hold no files");

    // 2. Copy or download everything into the blob store, reporting progress.
    std::uint64_t totalKnown = 0;
    for (const auto& p : pending)
        totalKnown += p.size;
    std::uint64_t doneBytes = 0;
    std::vector<DatasetFile> files;
    Json list = Json::array();
    for (std::size_t i = 0; i < pending.size() && i < 1000; ++i)
        list.push_back(
            {{"name", pending[i].name}, {"size", pending[i].size}, {"done", 0}, {"state", "waiting"}});
    const auto start = std::chrono::steady_clock::now();
    auto lastReport = start - std::chrono::seconds(1);
    auto progress = [&](std::size_t index, std::uint64_t bytes, std::uint64_t total, const char* state) {
        if (reporter.canceled && reporter.canceled())
            return false;
        const bool done = std::string_view(state) == "done";
        if (index < list.size()) {
            if (total)
                list[index]["size"] = total;
            list[index]["done"] = done ? list[index]["size"] : Json(bytes);
            list[index]["state"] = state;
        }
        const auto now = std::chrono::steady_clock::now();
        if (!reporter.progress ||
            (now - lastReport < std::chrono::milliseconds(100) && index + 1 < pending.size()))
            return true;
        lastReport = now;
        const double secs = std::chrono::duration<double>(now - start).count();
        reporter.progress({{"files", list},
                           {"file_count", pending.size()},
                           {"files_done", files.size()},
                           {"current", pending[index].name},
                           {"bytes_done", doneBytes + (done ? 0 : bytes)},
                           {"bytes_total", totalKnown},
                           {"bytes_per_second",
                            secs > 0 ? static_cast<double>(doneBytes + (done ? 0 : bytes)) / secs : 0.0}});
        return true;
    };
    for (std::size_t i = 0; i < pending.size(); ++i) {
        const auto& p = pending[i];
        DatasetFile f;
        f.path = p.name;
        if (!p.url.empty()) {
            auto r = fetchUrl(p.url, p.sha256, blobs, [&](std::uint64_t b, std::uint64_t t) {
                return progress(i, b, t, "downloading");
            });
            f.blob = r.sha256;
            f.size = static_cast<std::int64_t>(r.size);
            f.source = p.url;
        } else {
            f.blob =
                blobs.putFile(p.file, [&](std::uint64_t b) { return progress(i, b, p.size, "hashing"); });
            f.size = static_cast<std::int64_t>(p.size);
            f.source = p.file.string();
        }
        doneBytes += static_cast<std::uint64_t>(f.size);
        files.push_back(std::move(f));
        if (!progress(i, 0, 0, "done"))
            throw UserError(499, "canceled");
    }

    // 3. Register (or find the identical version).
    auto result = store.registerVersion(request.name, request.description, request.tags, std::move(files),
                                        request.newVersion);
    const auto v = std::to_string(result.version.version);
    return {{"dataset", toJson(result.version)},
            {"created", result.created},
            {"warnings", warnings},
            {"message", result.created ? "registered " + request.name + " version " + v
                                       : "identical content is already registered as " + request.name +
                                             " version " + v + "; no new version was made"}};
}

} // namespace Kiln::Datasets
