#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace Kiln::Util {

// Ignore rules in gitignore syntax: `#` comments, `!` re-includes, a trailing `/` for folders only, a
// leading or inner `/` anchoring the pattern to the folder, `*`, `?`, `[...]` within a name and `**`
// across folders. The last rule that matches decides; nothing under an ignored folder comes back.
class IgnoreRules final {
public:
    void add(std::string_view line);
    void addFile(const std::filesystem::path& file);
    // `path` is relative to the scanned folder, '/'-separated.
    bool ignored(std::string_view path, bool isFolder) const;
    bool empty() const { return m_rules.empty(); }

private:
    struct Rule {
        std::vector<std::string> parts; // the pattern split at '/'; "**" matches any number of folders
        bool negate = false;
        bool foldersOnly = false;
    };
    std::vector<Rule> m_rules;
};

// One walk over a source or dataset folder, with the rules a version-control tool would apply:
// - `.kilnignore` (else `.amlignore`, else `.gitignore`) at the folder's top, gitignore syntax;
// - `.git`, `.venv`, `__pycache__` and `.kiln` folders skipped wherever they are, plus `extraSkipped`
//   names at the top (a run's `outputs` and `logs`);
// - a link that resolves inside the folder is reported as a link (its target relative to the link's own
//   folder), never followed; a link that leads outside it (or nowhere) is skipped and listed.
struct ScannedFile {
    std::string path; // relative, '/'-separated, safe (Util::safeRelativePath)
    std::filesystem::path source;
    std::uint64_t size = 0;
    bool executable = false;
};
struct ScannedLink {
    std::string path;
    std::string target;             // as the link reads, relative to its own folder
    std::filesystem::path resolved; // the file or folder it names (inside the scanned folder)
    bool toFolder = false;
};
struct FolderScan {
    std::vector<ScannedFile> files;
    std::vector<ScannedLink> links;
    std::vector<std::string> skippedLinks; // pointing outside the folder, or dangling
    std::vector<std::string> badNames;     // names that cannot be stored (control characters...)
    std::uint64_t totalBytes = 0;
    std::string ignoreFile; // the ignore file used, if any
    // Warnings a user should see: skipped links (listed), unstorable names, a large folder.
    std::vector<std::string> warnings(std::string_view what, std::uint64_t warnBytes,
                                      std::size_t warnFiles) const;
};
FolderScan scanFolder(const std::filesystem::path& folder, const std::vector<std::string>& extraSkipped = {});

} // namespace Kiln::Util
