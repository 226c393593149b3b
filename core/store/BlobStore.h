#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace Kiln::Util {
class Sha256;
}

namespace Kiln::Store {

// Content-addressed file store: blobs/ab/abcdef... named by the SHA-256 of their bytes. A blob is written
// to a temporary file, hashed while written, and renamed into place, so a reader never sees half a blob
// and identical content is stored once.
class BlobStore final {
public:
    explicit BlobStore(std::filesystem::path root);

    // Streams content in: hashed as written to a temporary file, installed under its hash by commit();
    // dropped if destroyed uncommitted.
    class Writer final {
    public:
        explicit Writer(const BlobStore& store);
        ~Writer();
        Writer(const Writer&) = delete;
        Writer& operator=(const Writer&) = delete;
        void write(const void* data, std::size_t size);
        std::uint64_t size() const { return m_size; }
        std::string commit(); // returns the hash
        // Installs the content only if it hashes to `expected` (else drops it and throws a 400 UserError).
        void commit(const std::string& expected);

    private:
        std::string finish(); // closes the temporary file; returns the content's hash
        const BlobStore& m_store;
        std::filesystem::path m_tmp;
        int m_fd = -1;
        std::uint64_t m_size = 0;
        std::unique_ptr<Util::Sha256> m_hash;
    };

    // Copies a file in; returns its hash. `progress(bytes so far)` is called per chunk and may return false
    // to abandon the copy (a UserError is thrown then).
    std::string putFile(const std::filesystem::path& file,
                        const std::function<bool(std::uint64_t)>& progress = {});
    std::string putBytes(std::string_view bytes);
    // Stores bytes that the caller says hash to `expected`; throws if they do not.
    void putVerified(std::string_view bytes, const std::string& expected);

    bool has(const std::string& hash) const;
    // Marks a blob as just used (its mtime): a client that was told it exists is about to refer to it, so
    // the garbage collector's grace period starts again.
    void touch(const std::string& hash) const;
    const std::filesystem::path& root() const { return m_root; }
    std::filesystem::path pathOf(const std::string& hash) const;
    std::uint64_t sizeOf(const std::string& hash) const;
    // Copies a blob out to `dest` (creating parent folders), with `mode` permissions.
    void copyOut(const std::string& hash, const std::filesystem::path& dest, unsigned mode = 0644) const;

private:
    friend class Writer;
    std::filesystem::path tempPath() const;
    std::filesystem::path m_root;
};

} // namespace Kiln::Store
