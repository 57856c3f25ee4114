// PLACEHOLDER: replaced by the end-to-end suite.
#include <gtest/gtest.h>
