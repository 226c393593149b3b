#pragma once
#include "metrics/Reduce.h"

#include <QHash>
#include <QString>
#include <QStringList>

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace Kiln::Metrics {
struct Columns;
}

namespace Kiln::Ui {

// One metric of one run as it arrived, in columns: the single copy of its points, shared by every chart
// that draws it. `version` rises with each change so charts know what is new; `generation` rises when the
// points are replaced rather than appended to (charts then start over).
//
// A run opens in two steps: first kilnd's level of detail of each metric (per pixel column its first,
// lowest, highest and last point: the picture, from a few thousand points), marked `preview`, then the
// points themselves, which replace it.
struct SeriesBuffer {
    std::vector<double> steps;
    std::vector<double> times; // seconds since 1970
    std::vector<double> values;
    Metrics::BlockIndex valueIndex; // cached min/max ranges over `values`
    bool stepsAscending = true;
    bool timesAscending = true;
    bool preview = false; // the points are a level of detail, not yet the points
    std::uint64_t version = 0;
    std::uint64_t generation = 0;

    // Appends points; the first points to reach a preview replace it.
    void append(const double* newSteps, const double* newTimes, const double* newValues, std::size_t n) {
        if (preview)
            clear();
        for (std::size_t i = 0; i < n; ++i) {
            if (!steps.empty() && newSteps[i] < steps.back())
                stepsAscending = false;
            if (!times.empty() && newTimes[i] < times.back())
                timesAscending = false;
            steps.push_back(newSteps[i]);
            times.push_back(newTimes[i]);
            values.push_back(newValues[i]);
        }
        valueIndex.extend(values);
        ++version;
    }
    void clear() {
        steps.clear();
        times.clear();
        values.clear();
        valueIndex.clear();
        stepsAscending = timesAscending = true;
        preview = false;
        ++generation;
        ++version;
    }
    std::size_t size() const { return values.size(); }
    std::size_t memoryBytes() const {
        return (steps.capacity() + times.capacity() + values.capacity()) * sizeof(double) +
               valueIndex.memoryBytes();
    }
};

using SeriesBuffers = QHash<QString, std::shared_ptr<SeriesBuffer>>;

// Puts a batch into `buffers` (one per metric, created when missing) and returns the names of the buffers
// it created. An overview (kilnd's level of detail of every metric) replaces what the buffers hold and
// marks them preview; points are appended (replacing a preview).
QStringList receive(SeriesBuffers& buffers, const Metrics::Columns& batch, bool overview = false);

// The same for the "metrics" of a live feed answer ({key: {steps, timestamps, values}}).
QStringList receive(SeriesBuffers& buffers, const nlohmann::json& feedMetrics);

// Replaces the points of a preview buffer between steps `from` and `to` by `detail` (a finer level of
// detail of that range, as asked for when the chart zooms in): the overview stays left and right of it.
void refine(SeriesBuffer& buffer, double from, double to, const Metrics::Columns& detail);

} // namespace Kiln::Ui
