// analysis/paraview/render_3d.py end to end: a short exoderm run -> .xmf -> pvbatch under Xvfb ->
// PNG(s) of the requested size that are not blank. Needs paraview (pvbatch) and xvfb (xvfb-run),
// like tests/test_paraview.cpp: a missing tool is a failure, not a skip.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include <cmath>
#include <vector>

#include "io/recorder.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path kScripts3d = fs::path(EXODERM_SOURCE_DIR) / "analysis" / "paraview";

std::string quoted3d(const fs::path& path) {
    std::string text = "'";
    for (const char c : path.string()) text += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return text + "'";
}

std::string read_all(const fs::path& path) {
    std::ifstream stream(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>());
}

int shell(const std::string& command) {
    const int status = std::system(command.c_str());
    return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void require_render_tools() {
    for (const char* tool : {"pvbatch", "xvfb-run"}) {
        if (shell(std::string("command -v ") + tool + " >/dev/null 2>&1") != 0) {
            FAIL(tool << " is not installed: install paraview, python3-paraview and xvfb "
                         "(apt-get install paraview python3-paraview xvfb)");
        }
    }
    if (!fs::exists("/usr/bin/python3")) FAIL("/usr/bin/python3 is missing (the image check needs it)");
}

// Width and height from the PNG IHDR chunk (bytes 16..23, big-endian); {0, 0} if not a PNG.
std::pair<unsigned, unsigned> png_size(const fs::path& png) {
    const std::string bytes = read_all(png);
    if (bytes.size() < 24 || bytes.compare(1, 3, "PNG") != 0 || bytes.compare(12, 4, "IHDR") != 0) return {0, 0};
    auto be32 = [&](std::size_t at) {
        unsigned value = 0;
        for (std::size_t i = 0; i < 4; ++i) value = (value << 8) | static_cast<unsigned char>(bytes[at + i]);
        return value;
    };
    return {be32(16), be32(20)};
}

// A short default-scenario run at 20 um with two output times (one with the channel open).
fs::path make_result(const fs::path& folder) {
    const fs::path result = folder / "r3d.h5";
    const std::string run = quoted3d(EXODERM_BINARY) + " run " +
                            quoted3d(fs::path(EXODERM_SOURCE_DIR) / "scenarios" / "default.toml") + " -o " +
                            quoted3d(result) +
                            " --quiet --force --set domain.dx=\"20 um\" --set time.end=\"4 h\""
                            " --set time.outputs='[\"1 h\", \"4 h\"]' > " +
                            quoted3d(folder / "run.log") + " 2>&1";
    INFO("exoderm run log:\n" << read_all(folder / "run.log"));
    REQUIRE(shell(run) == 0);
    const fs::path xmf = folder / "r3d.xmf";
    REQUIRE(fs::exists(xmf));
    return xmf;
}

std::string render_3d_command(const std::string& arguments, const fs::path& log, int attempt) {
    // Same display handling as tests/test_paraview.cpp: -a from a display number derived from
    // the process id (parallel ctest runs do not race), elsewhere on each retry.
    const std::string first_display = std::to_string(500 + (::getpid() + 97 * attempt) % 400);
    return "xvfb-run -a -n " + first_display +
           " -s \"-screen 0 1280x1024x24\" pvbatch --force-offscreen-rendering " +
           quoted3d(kScripts3d / "render_3d.py") + " " + arguments + " > " + quoted3d(log) + " 2>&1";
}

// Runs render_3d.py with up to 3 attempts (pvbatch under Xvfb aborts rarely); returns the exit code.
int run_render_3d(const std::string& arguments, const fs::path& log, const fs::path& must_exist) {
    int code = -1;
    for (int attempt = 1; attempt <= 3; ++attempt) {
        code = shell(render_3d_command(arguments, log, attempt));
        if (code == 0 && fs::exists(must_exist)) break;
        if (code == 2) break;  // a deliberate refusal, not a crash
        WARN("render_3d.py attempt " << attempt << " failed (exit " << code << "):\n" << read_all(log));
    }
    return code;
}

struct Stats3d {
    int width = 0, height = 0, colours = 0;
    double std = 0.0, foreground = 0.0;
};

Stats3d stats_of(const fs::path& png, const fs::path& scratch) {
    const fs::path output = scratch / "image_stats.txt";
    const int code = shell("/usr/bin/python3 " + quoted3d(kScripts3d / "image_stats.py") + " " + quoted3d(png) +
                           " > " + quoted3d(output) + " 2>&1");
    const std::string text = read_all(output);
    INFO("image_stats.py: " << text);
    REQUIRE(code == 0);
    Stats3d stats;
    REQUIRE(std::sscanf(text.c_str(), "width=%d height=%d colours=%d std=%lf foreground=%lf", &stats.width,
                        &stats.height, &stats.colours, &stats.std, &stats.foreground) == 5);
    return stats;
}

void check_picture(const fs::path& png, const fs::path& scratch, unsigned width, unsigned height) {
    INFO(png);
    REQUIRE(fs::exists(png));
    const auto [w, h] = png_size(png);
    CHECK(w == width);
    CHECK(h == height);
    const Stats3d stats = stats_of(png, scratch);
    INFO("colours " << stats.colours << ", std " << stats.std << ", foreground " << stats.foreground);
    CHECK(stats.colours > 200);       // shaded surfaces, points and legends, not a flat picture
    CHECK(stats.std > 10.0);          // 0-255 scale
    CHECK(stats.foreground > 0.05);   // the box covers part of the picture, not only text
    CHECK(stats.foreground < 0.98);
}

} // namespace

TEST_CASE("render_3d.py draws one output time and a frame series of a short run", "[paraview][render3d]") {
    require_render_tools();
    exoderm::testing::TempDir folder("render3d");
    const fs::path xmf = make_result(folder.path());

    SECTION("one time, --size 640x480") {
        const fs::path png = folder.path() / "one.png";
        const fs::path log = folder.path() / "one.log";
        const int code = run_render_3d(quoted3d(xmf) + " -o " + quoted3d(png) + " --time 1 --size 640x480", log, png);
        const std::string text = read_all(log);
        INFO("pvbatch log:\n" << text);
        REQUIRE(code == 0);
        CHECK(text.find("rendered t = 1 h to") != std::string::npos);
        CHECK(text.find("image: width=640 height=480") != std::string::npos);  // the script's own stats
        check_picture(png, folder.path(), 640, 480);
    }
    SECTION("--frames: one PNG per output time") {
        const fs::path frames = folder.path() / "frames";
        const fs::path log = folder.path() / "frames.log";
        const int code = run_render_3d(quoted3d(xmf) + " --frames " + quoted3d(frames) + " --size 480x360", log,
                                       frames / "frame_001.png");
        const std::string text = read_all(log);
        INFO("pvbatch log:\n" << text);
        REQUIRE(code == 0);
        CHECK(text.find("rendered t = 1 h to") != std::string::npos);
        CHECK(text.find("rendered t = 4 h to") != std::string::npos);
        check_picture(frames / "frame_000.png", folder.path(), 480, 360);
        check_picture(frames / "frame_001.png", folder.path(), 480, 360);
        CHECK_FALSE(fs::exists(frames / "frame_002.png"));
    }
}

TEST_CASE("render_3d.py exits non-zero with a message for a missing file", "[paraview][render3d]") {
    require_render_tools();
    exoderm::testing::TempDir folder("render3d_missing");
    const fs::path png = folder.path() / "none.png";
    const fs::path log = folder.path() / "missing.log";
    const int code = run_render_3d(quoted3d(folder.path() / "no_such_result.xmf") + " -o " + quoted3d(png), log, png);
    const std::string text = read_all(log);
    INFO("pvbatch log:\n" << text);
    CHECK(code == 2);
    CHECK(text.find("no such file") != std::string::npos);
    CHECK_FALSE(fs::exists(png));
}

TEST_CASE("render_3d.py draws a result without cells, bound or channel and warns", "[paraview][render3d]") {
    require_render_tools();
    exoderm::testing::TempDir folder("render3d_synthetic");
    // Only a layer field and `free` (a blob spreading from the surface), no point sets.
    const exoderm::GridInfo grid{24, 20, 12, 10.0, 10.0, 5.0};
    exoderm::RunInfo info;
    info.scenario_name = "render_3d test";
    exoderm::Recorder recorder(folder.path() / "synthetic.h5", false, info, grid);
    const std::size_t cells = static_cast<std::size_t>(grid.nx) * grid.ny * grid.nz;
    std::vector<double> layer(cells), free(cells);
    for (int z = 0; z < grid.nz; ++z)
        for (int i = 0; i < grid.nx * grid.ny; ++i) layer[z * grid.nx * grid.ny + i] = z < 2 ? 0 : (z < 6 ? 1 : 2);
    recorder.write_static_field({"layer", "1", layer});
    for (int z = 0; z < grid.nz; ++z)
        for (int y = 0; y < grid.ny; ++y)
            for (int x = 0; x < grid.nx; ++x) {
                const double dx = (x + 0.5) * grid.dx_um - 120.0, dy = (y + 0.5) * grid.dy_um - 100.0;
                free[(z * grid.ny + y) * grid.nx + x] =
                    std::exp(-(dx * dx + dy * dy) / (2 * 40.0 * 40.0) - (z + 0.5) * grid.dz_um / 30.0);
            }
    recorder.write_snapshot(3600.0, {{"free", "particles/um^3", free}});
    recorder.finish();
    const fs::path png = folder.path() / "synthetic.png";
    const fs::path log = folder.path() / "synthetic.log";
    const int code = run_render_3d(quoted3d(recorder.xdmf_path()) + " -o " + quoted3d(png) + " --size 400x300", log, png);
    const std::string text = read_all(log);
    INFO("pvbatch log:\n" << text);
    REQUIRE(code == 0);
    CHECK(text.find("no 'cells' point collection") != std::string::npos);
    CHECK(text.find("vesicles drawn from free") != std::string::npos);
    CHECK(text.find("no 'lumen_fraction' field") != std::string::npos);
    CHECK(text.find("rendered t = 1 h to") != std::string::npos);
    check_picture(png, folder.path(), 400, 300);
}
