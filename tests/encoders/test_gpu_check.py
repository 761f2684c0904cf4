"""benchmarks.gpu_check (`make gpu-check`): the parts that need no GPU."""
from benchmarks import gpu_check
from encoders.profiles import builtin_profiles


def test_without_a_gpu_it_says_so_in_one_line_and_passes(monkeypatch, capsys):
    monkeypatch.setattr(gpu_check, "cuda_gpu", lambda: None)
    assert gpu_check.main([]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "no CUDA GPU" in out


def test_the_cuda_graph_is_downloaded_for_libx264():
    """H100/H200 have no NVENC: the project's nvenc-full argv with libx264, the graph unchanged
    but for a download at its end."""
    profile = gpu_check.without_nvenc(builtin_profiles()["nvenc-full"])
    assert profile.encoder == "libx264" and profile.input_options == builtin_profiles()["nvenc-full"].input_options
    argv = ["ffmpeg", "-filter_complex", "[0:0]hwupload,scale_cuda=format=yuv420p[base];[base][r0]overlay_cuda[vout]"]
    graph = gpu_check.download_at_end(argv)[2]
    assert graph.endswith("overlay_cuda[vgpu];[vgpu]hwdownload,format=yuv420p[vout]")


def test_self_test_runs_here(capsys):
    """argv building and the PSNR helper on two CPU renders."""
    assert gpu_check.main(["--self-test"]) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out and out.count("PASS") == 4
