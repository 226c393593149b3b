#pragma once
#include "metrics/Reduce.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace Kiln::Ui {

// One metric of one run as it arrived, in columns: the single copy of its points, shared by every chart
// that draws it. `version` rises with each append so charts know what is new.
struct SeriesBuffer {
    std::vector<double> steps;
    std::vector<double> times; // seconds since 1970
    std::vector<double> values;
    Metrics::BlockIndex valueIndex; // cached min/max ranges over `values`
    bool stepsAscending = true;
    bool timesAscending = true;
    std::uint64_t version = 0;

    void append(const double* newSteps, const double* newTimes, const double* newValues, std::size_t n) {
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
    std::size_t size() const { return values.size(); }
    std::size_t memoryBytes() const {
        return (steps.capacity() + times.capacity() + values.capacity()) * sizeof(double) +
               valueIndex.memoryBytes();
    }
};

} // namespace Kiln::Ui
