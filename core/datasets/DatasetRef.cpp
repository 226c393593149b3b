#include "DatasetRef.h"

#include "datasets/DatasetStore.h"
#include "store/BlobStore.h"
#include "util/Error.h"

#include <charconv>

namespace fs = std::filesystem;

namespace Kiln::Datasets {

std::vector<DatasetRef> findDatasetRefs(const std::string& arg) {
    static constexpr std::string_view open = "{dataset:";
    std::vector<DatasetRef> out;
    std::size_t at = 0;
    while ((at = arg.find(open, at)) != std::string::npos) {
        const auto close = arg.find('}', at);
        if (close == std::string::npos)
            throw badRequest("unterminated dataset reference in argument: " + arg.substr(at, 120));
        const std::string body = arg.substr(at + open.size(), close - at - open.size());
        std::vector<std::string> parts;
        std::size_t start = 0;
        for (;;) {
            auto colon = body.find(':', start);
            parts.push_back(
                body.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
            if (colon == std::string::npos)
                break;
            start = colon + 1;
        }
        DatasetRef ref;
        ref.name = parts[0];
        ref.pos = at;
        ref.length = close - at + 1;
        if (!isValidName(ref.name))
            throw badRequest("not a dataset name in {dataset:...}: '" + ref.name.substr(0, 100) + "'");
        if (parts.size() > 3)
            throw badRequest("a dataset reference is {dataset:NAME[:VERSION][:mount|download]}");
        for (std::size_t i = 1; i < parts.size(); ++i) {
            const auto& p = parts[i];
            if (p == "mount" || p == "download") {
                ref.mode = p;
            } else {
                int v = 0;
                auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
                if (ec != std::errc() || end != p.data() + p.size() || v <= 0 || i != 1)
                    throw badRequest("not a dataset version or mode in {dataset:" + body.substr(0, 100) +
                                     "}: '" + p.substr(0, 40) + "'");
                ref.version = v;
            }
        }
        out.push_back(ref);
        at = close + 1;
    }
    return out;
}

void materialize(const std::vector<DatasetFile>& files, const Store::BlobStore& blobs, const fs::path& dest,
                 bool readOnly, bool linkBlobs) {
    fs::create_directories(dest);
    for (const auto& f : files) {
        const auto target = dest / f.path;
        fs::create_directories(target.parent_path());
        std::error_code ec;
        if (readOnly && linkBlobs) {
            fs::create_hard_link(blobs.pathOf(f.blob), target, ec);
            if (!ec)
                continue;
        }
        blobs.copyOut(f.blob, target, readOnly ? 0444 : 0644);
    }
    if (readOnly) {
        // Folders read-only, deepest first.
        std::vector<fs::path> dirs;
        for (auto it = fs::recursive_directory_iterator(dest); it != fs::recursive_directory_iterator(); ++it)
            if (it->is_directory())
                dirs.push_back(it->path());
        dirs.push_back(dest);
        for (auto it = dirs.rbegin(); it != dirs.rend(); ++it)
            fs::permissions(*it, static_cast<fs::perms>(0555));
    }
}

} // namespace Kiln::Datasets
