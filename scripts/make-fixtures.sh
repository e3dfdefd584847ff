#!/usr/bin/env bash
# Regenerates the VP8/IVF media fixtures in fixtures/media/.
#
# Needs: ffmpeg built with libvpx (Debian: `apt-get install -y ffmpeg`, which
# also pulls fonts-dejavu-core for the name labels).
#
# Deterministic: a single encoder thread, fixed lavfi sources and seeds, and
# -bitexact, so the same ffmpeg/libvpx build gives byte-identical files.
# Idempotent: every output is overwritten (-y); nothing else is touched.
#
# Shape of every clip (the tests in test/media/ rely on it):
#   VP8 in IVF, 640x360, 30 fps, exactly 120 frames (4 s), keyframe on frames
#   0, 30, 60, 90 only, every IVF frame a shown frame (no alt-ref), < 1 MB.
set -euo pipefail

cd "$(dirname "$0")/.."
out=fixtures/media
mkdir -p "$out"

font=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf

# The name label helps a human tell the streams apart in a player; without the
# font or drawtext the clips are still distinct, so the label is dropped rather
# than failing. The filter list is captured first: `grep -q` closing the pipe
# early would SIGPIPE ffmpeg and, under pipefail, wrongly read as "missing".
filters=$(ffmpeg -hide_banner -filters 2>/dev/null || true)
label () {
  if [[ -f "$font" ]] && grep -q ' drawtext ' <<<"$filters"; then
    printf ",drawtext=fontfile=%s:text=%s:fontsize=40:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=8:x=20:y=h-th-28" "$font" "$1"
  fi
}

# -g/-keyint_min equal pins libvpx's kf_min_dist = kf_max_dist = 30, so it can
# never place a scene-cut keyframe. -auto-alt-ref 0 plus -lag-in-frames 0
# means no invisible alt-ref frames, so every IVF frame is one displayed
# picture and frame index == display index. -drop-threshold 0 keeps all 120.
encode () {
  local name=$1 graph=$2
  ffmpeg -hide_banner -loglevel error -y \
    -f lavfi -i "$graph" \
    -frames:v 120 -an \
    -c:v libvpx -pix_fmt yuv420p -threads 1 \
    -deadline good -cpu-used 2 \
    -b:v 800k -minrate 400k -maxrate 1200k -bufsize 1600k \
    -g 30 -keyint_min 30 -auto-alt-ref 0 -lag-in-frames 0 -drop-threshold 0 \
    -fflags +bitexact -flags:v +bitexact \
    -f ivf "$out/$name.ivf"
}

encode alice "testsrc2=size=640x360:rate=30$(label alice)"

encode bob "smptehdbars=size=640x360:rate=30[bars];color=c=0xffcc00:size=80x80:rate=30[box];[bars][box]overlay=x='mod(t*200\,W-w)':y='(H-h)/2+100*sin(2*PI*t/2)':shortest=1,noise=alls=10:allf=t:all_seed=7$(label bob)"

encode carol "mandelbrot=size=640x360:rate=30:start_scale=3:end_scale=0.3$(label carol)"

# life cells are upscaled 4x with nearest-neighbour so the clip compresses
# like real video instead of per-pixel noise.
encode dave "life=size=160x90:rate=30:seed=1234:ratio=0.3:mold=10:life_color=0x00ff88:death_color=0x202040:mold_color=0x604000,scale=640x360:flags=neighbor$(label dave)"

for f in alice bob carol dave; do
  printf '%s.ivf %s bytes\n' "$f" "$(stat -c %s "$out/$f.ivf")"
done
