// Median, min and max of repeated measurements (seeds of a study, timed
// blocks of a benchmark). Torch-free. Pure function; thread-safe.
#ifndef PROXFLOW_TOOLS_LAB_SPREAD_H_
#define PROXFLOW_TOOLS_LAB_SPREAD_H_

#include <cmath>
#include <vector>

namespace proxflow::lab {

struct Spread {
  int count = 0;        // finite values
  double median = NAN;  // mean of the middle two for even counts
  double min = NAN;
  double max = NAN;
};

// Of the finite values; count 0 and NaN fields when there are none.
Spread SpreadOf(std::vector<double> values);

}  // namespace proxflow::lab

#endif  // PROXFLOW_TOOLS_LAB_SPREAD_H_
