#pragma once
#include "util/Json.h"

#include <map>
#include <string>
#include <vector>

namespace Kiln::Environments {

// Where a conda-style YAML file is wrong, 1-based like an editor shows it (0 when unknown).
struct YamlError {
    std::string message;
    int line = 0;
    int column = 0;
};

// What Kiln takes from a conda environment file: channels, conda dependencies (python=X.Y is honoured,
// anything else needs a real conda) and the nested `pip:` list.
struct CondaFile {
    std::string name;
    std::vector<std::string> channels;
    std::vector<std::string> dependencies; // conda packages, e.g. "python=3.11", "numpy"
    std::vector<std::string> pip;          // pip requirement strings
};

// Parses a conda environment YAML; on error returns false and fills `error` with line and column.
bool parseCondaYaml(const std::string& text, CondaFile& out, YamlError& error);

// A named environment's content, normalised: the interpreter, what pip installs, with which options,
// environment variables for the run, and a container image kept for container backends (local venv
// builds do not use it). Its hash keys the build cache.
struct Spec {
    std::string python;    // interpreter path, or a version such as "3.11"; empty: the system's
    std::string condaYaml; // the file as given (kept for display)
    std::vector<std::string> channels;
    std::vector<std::string> condaDependencies; // other than python=
    std::vector<std::string> pip;               // from the YAML's pip: list and/or a requirements file
    std::map<std::string, std::string> variables;
    std::string indexUrl;
    std::vector<std::string> findLinks;
    bool noIndex = false;
    std::string dockerImage;

    Json toJson() const;
    static Spec fromJson(const Json& j);
    std::string hash() const; // of what affects the build (not variables or docker image)
};

// Validates a POST /api/v1/environments body ({name, python?, conda_yaml?, requirements?, variables?,
// index_url?, find_links?, no_index?, docker_image?}); throws UserError (400 with line:column for YAML).
Spec specFromRequest(const Json& body);
bool isValidEnvironmentName(const std::string& name);

} // namespace Kiln::Environments
