#pragma once
#include "environments/EnvironmentSpec.h"

#include <filesystem>
#include <functional>
#include <string>

namespace Kiln::Environments {

struct BuildResult {
    std::filesystem::path python; // the interpreter runs use
    std::filesystem::path prefix; // the venv
    bool reused = false;
};

// Materialises environment specs as venvs in a cache folder keyed by the spec's hash:
// `python -m venv --system-site-packages` on the chosen interpreter (so Debian's numpy/torch stay
// visible), then `pip install` of the spec's pip list. A finished build carries a marker file; a second
// use finds it and takes milliseconds. Builds of the same spec take a file lock, so concurrent runs build
// it once. A failed or canceled build removes its folder: no half-built entry is ever used.
class EnvBuilder final {
public:
    using LineSink = std::function<void(const std::string& line)>;

    explicit EnvBuilder(std::filesystem::path cacheDir)
        : m_cacheDir(std::move(cacheDir)) {}

    // Throws UserError (the builder's own last lines included) when the build fails.
    BuildResult ensure(const Spec& spec, const LineSink& output, const std::function<bool()>& canceled);
    bool isBuilt(const Spec& spec) const;

    // "" -> the system python3; "/path/python" -> itself; "3.11" -> a python3.11 on this machine.
    static std::string resolveInterpreter(const std::string& python);

private:
    std::filesystem::path m_cacheDir;
};

} // namespace Kiln::Environments
