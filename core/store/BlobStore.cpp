#include "BlobStore.h"

#include "util/Crypto.h"
#include "util/Error.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
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

BlobStore::Writer::Writer(const BlobStore& store)
    : m_store(store)
    , m_tmp(store.tempPath())
    , m_hash(std::make_unique<Util::Sha256>()) {
    m_fd = ::open(m_tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (m_fd < 0)
        throw std::runtime_error("cannot write to the blob store: " + m_tmp.string());
}

BlobStore::Writer::~Writer() {
    if (m_fd >= 0) {
        ::close(m_fd);
        ::unlink(m_tmp.c_str());
    }
}

void BlobStore::Writer::write(const void* data, std::size_t size) {
    m_hash->update(data, size);
    auto* p = static_cast<const char*>(data);
    while (size > 0) {
        ssize_t n = ::write(m_fd, p, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            throw std::runtime_error(std::string("cannot write to the blob store: ") + std::strerror(errno));
        p += n;
        size -= static_cast<std::size_t>(n);
        m_size += static_cast<std::uint64_t>(n);
    }
}

std::string BlobStore::Writer::commit() {
    if (::close(m_fd) != 0) {
        m_fd = -1;
        ::unlink(m_tmp.c_str());
        throw std::runtime_error("cannot write to the blob store (disk full?)");
    }
    m_fd = -1;
    auto hash = m_hash->finishHex();
    install(m_tmp, m_store.pathOf(hash));
    return hash;
}

std::string BlobStore::putFile(const fs::path& file, const std::function<bool(std::uint64_t)>& progress) {
    int in = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0)
        throw std::runtime_error("cannot read " + file.string() + ": " + std::strerror(errno));
    Writer w(*this);
    std::vector<char> buf(1 << 20);
    for (;;) {
        ssize_t n = ::read(in, buf.data(), buf.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            ::close(in);
            throw std::runtime_error("cannot read " + file.string() + ": " + std::strerror(errno));
        }
        if (n == 0)
            break;
        w.write(buf.data(), static_cast<std::size_t>(n));
        if (progress && !progress(w.size())) {
            ::close(in);
            throw UserError(499, "canceled");
        }
    }
    ::close(in);
    return w.commit();
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
