#include "BlobStore.h"

#include "util/Crypto.h"
#include "util/Error.h"

#include <atomic>
#include <fstream>
#include <stdexcept>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;

namespace Kiln::Store {

BlobStore::BlobStore(fs::path root)
    : m_root(std::move(root)) {
    fs::create_directories(m_root / "tmp");
}

fs::path BlobStore::tempPath() const {
    static std::atomic<unsigned> counter{0};
    return m_root / "tmp" / (std::to_string(::getpid()) + "-" + std::to_string(counter++));
}

fs::path BlobStore::pathOf(const std::string& hash) const {
    if (!Util::isSha256Hex(hash))
        throw badRequest("not a SHA-256 hash: " + hash.substr(0, 80));
    return m_root / hash.substr(0, 2) / hash;
}

bool BlobStore::has(const std::string& hash) const {
    std::error_code ec;
    return Util::isSha256Hex(hash) && fs::exists(pathOf(hash), ec);
}

std::uint64_t BlobStore::sizeOf(const std::string& hash) const {
    return fs::file_size(pathOf(hash));
}

static void install(const fs::path& tmp, const fs::path& final) {
    fs::create_directories(final.parent_path());
    std::error_code ec;
    if (fs::exists(final, ec)) {
        fs::remove(tmp, ec);
        return;
    }
    fs::permissions(tmp, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read, ec);
    fs::rename(tmp, final);
}

std::string BlobStore::putFile(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot read " + file.string());
    auto tmp = tempPath();
    std::ofstream out(tmp, std::ios::binary);
    Util::Sha256 h;
    std::vector<char> buf(1 << 20);
    while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        auto n = in.gcount();
        h.update(buf.data(), static_cast<std::size_t>(n));
        out.write(buf.data(), n);
    }
    out.close();
    if (!out)
        throw std::runtime_error("cannot write blob (disk full?)");
    auto hash = h.finishHex();
    install(tmp, pathOf(hash));
    return hash;
}

std::string BlobStore::putBytes(std::string_view bytes) {
    auto hash = Util::sha256Hex(bytes);
    if (has(hash))
        return hash;
    auto tmp = tempPath();
    {
        std::ofstream out(tmp, std::ios::binary);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        if (!out)
            throw std::runtime_error("cannot write blob (disk full?)");
    }
    install(tmp, pathOf(hash));
    return hash;
}

void BlobStore::putVerified(std::string_view bytes, const std::string& expected) {
    if (!Util::isSha256Hex(expected))
        throw badRequest("not a SHA-256 hash");
    auto actual = Util::sha256Hex(bytes);
    if (actual != expected)
        throw badRequest("content does not match its hash (expected " + expected + ", got " + actual + ")");
    putBytes(bytes);
}

void BlobStore::copyOut(const std::string& hash, const fs::path& dest, unsigned mode) const {
    fs::create_directories(dest.parent_path());
    fs::copy_file(pathOf(hash), dest, fs::copy_options::overwrite_existing);
    fs::permissions(dest, static_cast<fs::perms>(mode));
}

} // namespace Kiln::Store
