#pragma once
// Looking up one version of a named, versioned asset (a dataset, an environment, a model): shared by their
// stores, which differ only in their columns and in what "the latest" means.
#include "store/Database.h"

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace Kiln::Store {

// Version `version` of `name`, or with 0 the first by `latestFirst` (an ORDER BY), read by `read` from a row
// of `select` (a SELECT up to where its WHERE goes) whose asset name is `nameColumn`.
template <typename Read>
auto versionOf(Database& db, const std::string& select, std::string_view nameColumn,
               std::string_view latestFirst, const std::string& name, int version, Read&& read)
    -> std::optional<decltype(read(std::declval<const Statement&>()))> {
    auto lock = db.lock();
    auto st = db.prepare(select + "WHERE " + std::string(nameColumn) + " = ?1 " +
                         (version > 0 ? std::string("AND v.version = ?2")
                                      : "ORDER BY " + std::string(latestFirst) + " LIMIT 1"));
    st.bind(1, name);
    if (version > 0)
        st.bind(2, version);
    if (!st.step())
        return std::nullopt;
    return read(st);
}

} // namespace Kiln::Store
