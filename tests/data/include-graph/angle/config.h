#pragma once
struct config {
        int qps;
};
