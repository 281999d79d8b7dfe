#include <cstdio>
int main() {
    std::puts("relaytrust: under construction");
    return 0;
}
