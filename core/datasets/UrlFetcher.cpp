#include "UrlFetcher.h"

#include "store/BlobStore.h"
#include "util/Error.h"

#include <cpprest/containerstream.h>
#include <cpprest/http_client.h>
#include <thread>

namespace Kiln::Datasets {

using namespace web::http;

namespace {
struct Transient : std::runtime_error {
    using std::runtime_error::runtime_error;
};
} // namespace

FetchResult fetchUrl(const std::string& urlIn, const std::string& expectedIn, Store::BlobStore& blobs,
                     const std::function<bool(std::uint64_t, std::uint64_t)>& progress, int attempts) {
    std::string url = urlIn, expected = expectedIn;
    if (auto hashAt = url.find("#sha256="); hashAt != std::string::npos) {
        if (expected.empty())
            expected = url.substr(hashAt + 8);
        url = url.substr(0, hashAt);
    }
    if (!(url.starts_with("http://") || url.starts_with("https://")))
        throw badRequest("only http:// and https:// URLs can be registered: " + url.substr(0, 200));
    web::uri uri;
    try {
        uri = web::uri(url);
    } catch (const std::exception&) {
        throw badRequest("not a valid URL: " + url.substr(0, 200));
    }
    std::string lastError;
    for (int attempt = 1; attempt <= attempts; ++attempt) {
        if (attempt > 1)
            std::this_thread::sleep_for(std::chrono::milliseconds(200 << (attempt - 2)));
        try {
            client::http_client_config config;
            config.set_timeout(std::chrono::seconds(30));
            client::http_client http(uri.authority(), config); // authority(): scheme, host and port
            auto resp = http.request(methods::GET, uri.resource().to_string()).get();
            const auto status = resp.status_code();
            if (status >= 500 || status == 408 || status == 429)
                throw Transient("HTTP " + std::to_string(status));
            if (status != 200)
                throw badRequest("downloading " + url + " failed: HTTP " + std::to_string(status) + " " +
                                 resp.reason_phrase());
            const std::uint64_t total = resp.headers().content_length();
            Store::BlobStore::Writer writer(blobs);
            auto body = resp.body();
            concurrency::streams::container_buffer<std::vector<uint8_t>> buf;
            for (;;) {
                buf.collection().clear();
                buf.seekpos(0, std::ios_base::out);
                std::size_t n = 0;
                try {
                    n = body.read(buf, 1 << 20).get();
                } catch (const std::exception& e) {
                    throw Transient("connection dropped after " + std::to_string(writer.size()) + " of " +
                                    (total ? std::to_string(total) : std::string("?")) + " bytes (" +
                                    e.what() + ")");
                }
                if (n == 0)
                    break;
                writer.write(buf.collection().data(), n);
                if (progress && !progress(writer.size(), total))
                    throw UserError(499, "canceled");
            }
            if (total && writer.size() != total)
                throw Transient("connection dropped after " + std::to_string(writer.size()) + " of " +
                                std::to_string(total) + " bytes");
            const auto size = writer.size();
            auto hash = writer.commit();
            if (!expected.empty() && hash != expected)
                throw badRequest("downloaded " + url + " but its SHA-256 is " + hash + ", not the expected " +
                                 expected);
            return {hash, size};
        } catch (const UserError&) {
            throw;
        } catch (const std::exception& e) {
            lastError = e.what();
        }
    }
    throw UserError(502, "downloading " + url + " failed after " + std::to_string(attempts) +
                             " attempts: " + lastError);
}

} // namespace Kiln::Datasets
