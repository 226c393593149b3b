#include "SeriesBuffer.h"

#include "metrics/Columns.h"

#include <nlohmann/json.hpp>

#include <QSet>

#include <algorithm>

namespace Kiln::Ui {

namespace {

// Appends points [a, b) of `batch` to `buffer` (steps and times as doubles, as the chart draws them).
void appendRange(SeriesBuffer& buffer, const Metrics::Columns& batch, std::size_t a, std::size_t b) {
    std::vector<double> steps(batch.steps.begin() + static_cast<long>(a),
                              batch.steps.begin() + static_cast<long>(b));
    buffer.append(steps.data(), batch.timestamps.data() + a, batch.values.data() + a, b - a);
}

} // namespace

QStringList receive(SeriesBuffers& buffers, const Metrics::Columns& batch, bool overview) {
    QStringList created;
    QSet<QString> replaced; // (a key's points may come in more than one stretch of the batch)
    for (std::size_t i = 0; i < batch.size();) {
        const auto k = batch.key.empty() ? 0u : batch.key[i];
        std::size_t j = i + 1;
        while (j < batch.size() && !batch.key.empty() && batch.key[j] == k)
            ++j;
        const auto name = QString::fromStdString(batch.keys[k]);
        auto& buffer = buffers[name];
        if (!buffer) {
            buffer = std::make_shared<SeriesBuffer>();
            created << name;
        }
        if (overview && !replaced.contains(name)) {
            replaced.insert(name);
            buffer->clear();
        }
        appendRange(*buffer, batch, i, j);
        i = j;
    }
    for (const auto& name : replaced)
        buffers[name]->preview = true;
    return created;
}

QStringList receive(SeriesBuffers& buffers, const nlohmann::json& feedMetrics) {
    QStringList created;
    for (const auto& [key, series] : feedMetrics.items()) {
        const QString name = QString::fromStdString(key);
        auto& buffer = buffers[name];
        if (!buffer) {
            buffer = std::make_shared<SeriesBuffer>();
            created << name;
        }
        const auto steps = series["steps"].get<std::vector<double>>();
        const auto times = series["timestamps"].get<std::vector<double>>();
        const auto values = series["values"].get<std::vector<double>>();
        buffer->append(steps.data(), times.data(), values.data(),
                       std::min({steps.size(), times.size(), values.size()}));
    }
    return created;
}

void refine(SeriesBuffer& buffer, double from, double to, const Metrics::Columns& detail) {
    if (!buffer.preview || !buffer.stepsAscending || detail.size() == 0)
        return; // the points came meanwhile (or the overview is not in step order: nothing to splice)
    const double first = std::min(from, static_cast<double>(detail.steps.front()));
    const double last = std::max(to, static_cast<double>(detail.steps.back()));
    const auto left = static_cast<std::size_t>(
        std::lower_bound(buffer.steps.begin(), buffer.steps.end(), first) - buffer.steps.begin());
    const auto right = static_cast<std::size_t>(
        std::upper_bound(buffer.steps.begin(), buffer.steps.end(), last) - buffer.steps.begin());
    SeriesBuffer merged;
    merged.append(buffer.steps.data(), buffer.times.data(), buffer.values.data(), left);
    appendRange(merged, detail, 0, detail.size());
    merged.append(buffer.steps.data() + right, buffer.times.data() + right, buffer.values.data() + right,
                  buffer.size() - right);
    merged.preview = true;
    merged.generation = buffer.generation + 1;
    merged.version = buffer.version + 1;
    buffer = std::move(merged);
}

} // namespace Kiln::Ui
