// libFuzzer target: what kilnd does with a request before touching the workspace. The input is a request
// path (with query) on the first line and a body after it; it goes through path decoding, query parsing,
// Range headers, JSON body parsing and the validation every route applies (names, maps, snapshot manifests,
// environment specs and their conda YAML, dataset references in arguments, relative file paths).
// Refusals (UserError, JSON type errors) are the expected outcome of hostile input; anything else, a crash,
// an ASan/UBSan report or an unexpected exception, is a finding. The seed corpus is tests/fuzz/corpus.
#include "api/Http.h"
#include "api/Validation.h"
#include "datasets/DatasetRef.h"
#include "environments/EnvironmentSpec.h"
#include "runs/Snapshot.h"
#include "util/Error.h"
#include "util/Fs.h"

#include <cstdint>
#include <string>

using namespace Kiln;

template <typename F> static void refusalsAreFine(F&& f) {
    try {
        f();
    } catch (const UserError&) {
    } catch (const Json::exception&) {
    }
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    const auto newline = input.find('\n');
    const std::string target = input.substr(0, newline);
    const std::string body = newline == std::string::npos ? std::string() : input.substr(newline + 1);
    const auto question = target.find('?');
    const std::string path = target.substr(0, question);
    const std::string query = question == std::string::npos ? std::string() : target.substr(question + 1);

    std::vector<std::string> segments;
    refusalsAreFine([&] { segments = Api::splitPath(path); });
    refusalsAreFine([&] {
        auto q = Api::parseQuery(query);
        Api::queryInt(q, "limit", 10, 1, 100000);
        Api::queryInt(q, "timeout_ms", 0, 0, 60000);
    });
    for (std::size_t first = 0; first < std::min<std::size_t>(segments.size(), 4); ++first)
        refusalsAreFine([&] {
            std::string joined; // what a route's {path+} holds: the segments from `first` on
            for (std::size_t i = first; i < segments.size(); ++i)
                joined += (i > first ? "/" : "") + segments[i];
            Api::relativePath(joined, "run");
        });
    (void)Util::safeRelativePath(Api::percentDecode(path));
    bool unsatisfiable = false;
    (void)Api::parseRange(target, 1u << 20, unsatisfiable);
    (void)Api::parseRange(target, 0, unsatisfiable);
    refusalsAreFine([&] { (void)Datasets::findDatasetRefs(body); });

    refusalsAreFine([&] {
        const auto j = Api::parseBody(body);
        refusalsAreFine([&] { Api::validName(j.value("name", Json()), "name"); });
        refusalsAreFine([&] { Api::validStringMap(j, "params"); });
        refusalsAreFine([&] { Api::validStringMap(j, "tags"); });
        refusalsAreFine(
            [&] { (void)Runs::Snapshot::fromManifest(j.contains("snapshot") ? j["snapshot"] : j); });
        refusalsAreFine([&] { (void)Environments::specFromRequest(j); });
    });
    Environments::CondaFile conda;
    Environments::YamlError error;
    (void)Environments::parseCondaYaml(body, conda, error);
    return 0;
}
