#include "FolderScan.h"

#include "util/Fs.h"

#include <fnmatch.h>
#include <set>

namespace fs = std::filesystem;

namespace Kiln::Util {

namespace {

bool matchParts(const std::vector<std::string>& parts, std::size_t pi, const std::vector<std::string>& segs,
                std::size_t si) {
    if (pi == parts.size())
        return si == segs.size();
    if (parts[pi] == "**") {
        for (std::size_t k = si; k <= segs.size(); ++k)
            if (matchParts(parts, pi + 1, segs, k))
                return true;
        return false;
    }
    if (si == segs.size())
        return false;
    return ::fnmatch(parts[pi].c_str(), segs[si].c_str(), 0) == 0 && matchParts(parts, pi + 1, segs, si + 1);
}

bool isWithin(const fs::path& path, const fs::path& root) {
    if (path == root)
        return true;
    auto rel = path.lexically_relative(root);
    return !rel.empty() && *rel.begin() != "..";
}

} // namespace

void IgnoreRules::add(std::string_view line) {
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r'))
        line.remove_suffix(1);
    if (line.empty() || line.front() == '#')
        return;
    Rule rule;
    if (line.front() == '!') {
        rule.negate = true;
        line.remove_prefix(1);
    } else if (line.starts_with("\\#") || line.starts_with("\\!")) {
        line.remove_prefix(1);
    }
    if (!line.empty() && line.back() == '/') {
        rule.foldersOnly = true;
        line.remove_suffix(1);
    }
    if (line.empty())
        return;
    const bool anchored = line.find('/') != std::string_view::npos;
    if (line.front() == '/')
        line.remove_prefix(1);
    rule.parts = splitSegments(line);
    if (rule.parts.empty())
        return;
    if (!anchored)
        rule.parts.insert(rule.parts.begin(), "**");
    m_rules.push_back(std::move(rule));
}

void IgnoreRules::addFile(const fs::path& file) {
    auto text = tryReadFile(file);
    if (!text)
        return;
    std::size_t start = 0;
    while (start < text->size()) {
        auto end = text->find('\n', start);
        if (end == std::string::npos)
            end = text->size();
        add(std::string_view(*text).substr(start, end - start));
        start = end + 1;
    }
}

bool IgnoreRules::ignored(std::string_view path, bool isFolder) const {
    const auto segs = splitSegments(path);
    bool out = false;
    for (const auto& rule : m_rules) {
        if (rule.foldersOnly && !isFolder)
            continue;
        if (matchParts(rule.parts, 0, segs, 0))
            out = !rule.negate;
    }
    return out;
}

std::vector<std::string> FolderScan::warnings(std::string_view what, std::uint64_t warnBytes,
                                              std::size_t warnFiles) const {
    std::vector<std::string> out;
    auto list = [](const std::vector<std::string>& names) {
        std::string s;
        for (std::size_t i = 0; i < names.size() && i < 10; ++i)
            s += (i ? ", " : "") + names[i];
        if (names.size() > 10)
            s += ", and " + std::to_string(names.size() - 10) + " more";
        return s;
    };
    if (!skippedLinks.empty())
        out.push_back("skipped " + std::to_string(skippedLinks.size()) + " link" +
                      (skippedLinks.size() == 1 ? "" : "s") + " in the " + std::string(what) +
                      " that lead outside it or nowhere: " + list(skippedLinks));
    if (!badNames.empty())
        out.push_back("skipped " + std::to_string(badNames.size()) + " file" +
                      (badNames.size() == 1 ? "" : "s") +
                      " whose names cannot be stored (control characters, backslashes): " + list(badNames));
    if (totalBytes > warnBytes || files.size() > warnFiles)
        out.push_back("the " + std::string(what) + " holds " + std::to_string(files.size()) + " files, " +
                      std::to_string(totalBytes / (1024 * 1024)) +
                      " MB: list what the run does not need in a .kilnignore file (gitignore syntax)");
    return out;
}

FolderScan scanFolder(const fs::path& folder, const std::vector<std::string>& extraSkipped) {
    static const std::set<std::string> kSkippedEverywhere = {".git", ".venv", "__pycache__", ".kiln"};
    FolderScan scan;
    std::error_code ec;
    const auto root = fs::canonical(folder, ec);
    if (ec)
        return scan;
    IgnoreRules rules;
    for (const char* name : {".kilnignore", ".amlignore", ".gitignore"}) {
        if (fs::is_regular_file(root / name, ec)) {
            rules.addFile(root / name);
            scan.ignoreFile = name;
            break;
        }
    }
    const std::set<std::string> extra(extraSkipped.begin(), extraSkipped.end());
    for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec)
            break;
        const auto name = it->path().filename().string();
        const auto rel = it->path().lexically_relative(root).generic_string();
        const auto status = it->symlink_status(ec);
        if (fs::is_directory(status)) {
            if (kSkippedEverywhere.count(name) || (it.depth() == 0 && extra.count(name)) ||
                rules.ignored(rel, true))
                it.disable_recursion_pending();
            continue;
        }
        if (fs::is_symlink(status)) {
            std::error_code lec;
            const auto resolved = fs::canonical(it->path(), lec);
            const bool toFolder = !lec && fs::is_directory(resolved, lec);
            if (rules.ignored(rel, toFolder))
                continue;
            auto safe = safeRelativePath(rel);
            if (!safe) {
                scan.badNames.push_back(rel);
                continue;
            }
            if (lec || !isWithin(resolved, root) || resolved == root) {
                scan.skippedLinks.push_back(*safe);
                continue;
            }
            const auto parent = fs::canonical(it->path().parent_path(), lec);
            scan.links.push_back(
                {*safe, resolved.lexically_relative(parent).generic_string(), resolved, toFolder});
            continue;
        }
        if (!fs::is_regular_file(status) || rules.ignored(rel, false))
            continue;
        auto safe = safeRelativePath(rel);
        if (!safe) {
            scan.badNames.push_back(rel);
            continue;
        }
        ScannedFile f;
        f.path = *safe;
        f.source = it->path();
        f.size = it->file_size(ec);
        f.executable = (status.permissions() & fs::perms::owner_exec) != fs::perms::none;
        scan.totalBytes += f.size;
        scan.files.push_back(std::move(f));
    }
    return scan;
}

} // namespace Kiln::Util
