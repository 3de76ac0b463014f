"""The ``sanet-text-web`` command: a Gradio page for everything the CLI does, on one shared Stylizer.

A content photo (uploaded or a bundled example), a style from an uploaded picture, a prompt or both
(mixed by weight), a mask painted on the content, alpha, colour preservation, size, seed, the text
source, the resolved style and the seconds beside the result, and the attention heat-map.

:class:`StylePage` is the request handler in plain Python (testable without a browser or a server);
:func:`build_page` wires it into Gradio; :func:`main` serves it. One Stylizer per process serves every
request, one at a time: it is not thread-safe, and on a CPU a second concurrent job only slows both.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import gradio as gr
from gradio.data_classes import FileData
from PIL import Image, ImageChops

from ..core.errors import UserError, run_command
from ..core.paths import EXAMPLES_DIR
from ..images.processor import load_pil
from ..options.commands import Parser, add_model_options
from ..render.pipeline import MATCH_COLOR
from ..stylizer import TEXT_SOURCES, Prompt, Stylizer, StylizerOutput, offered_sources

PROG = "sanet-text-web"
# Uploads over this are cut off by Gradio while they stream in; the pixel-count guard of
# sanet_text.images.imageio then refuses small files that decompress to huge images.
MAX_UPLOAD = "25mb"
# Longest side of a result, and of an upload as it is decoded (larger ones are shrunk while they are
# read): the per-request pixel budget. An 81 MP PNG of 78 KB passes the bomb guard and otherwise
# cost 2.4 GB per request.
MAX_SIZE = 2048
# Longer side of the mask canvas: enough to paint on, and the mask is resized to the content anyway.
MASK_CANVAS = 768


# What a visitor is told about a text source this server cannot offer; the operator's reasons (and
# how to fix them) go to the server log at start and are explained in the README.
VISITOR_REASONS = {
    "library": "the style library's text model is not installed on this server",
    "mapper": "this server has no trained text mapper",
    "diffusion": "this server has no text-to-image model and cannot download one",
}


def refused(message: str) -> gr.Error:
    """A visitor's mistake: one line in the server log (no traceback) and the same line on the page."""
    print(f"{PROG}: refused: {message}", file=sys.stderr, flush=True)
    return gr.Error(message, print_exception=False)


def release_memory() -> None:
    """Give memory freed by a request back to the system.

    Requests run on a pool of threads, and glibc keeps what each thread freed in that thread's arena
    for reuse; trimmed, an idle server holds about 60 MB less after the soak test's bursts.
    """
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: its allocator returns memory in its own way
        pass


def read_upload(path: str | Path, name: str | None) -> Image.Image:
    """An uploaded file through the CLI's defensive reader, at most MAX_SIZE px long; its one-line
    error names the file as the user knows it."""
    try:
        return load_pil(path, max_side=MAX_SIZE)
    except UserError as err:
        # Gradio stores uploads under a cache path the user never saw; name the file they picked instead.
        raise refused(str(err).replace(str(path), name or "the uploaded file")) from None
    finally:
        release_memory()


def _read_payload(self: gr.Image, payload: FileData | None) -> Image.Image | None:
    if payload is None:
        return None
    if payload.path is None:
        raise refused("The upload did not arrive as a file; upload it again.")
    return read_upload(payload.path, payload.orig_name)


# gr.Image whose uploads are read by read_upload, not by gr.Image's own reader (which answers a bad
# file with a bare "Error" and knows no pixel limit); the browser side is gr.Image's. Made by
# type.__new__ instead of a class statement: gradio's component metaclass writes a .pyi stub of this
# whole module beside it at every import (which type checkers would then read instead of this file),
# and does nothing else a subclass without events or __init__ of its own needs.
UploadedImage = type.__new__(type(gr.Image), "UploadedImage", (gr.Image,), {
    "__module__": __name__,
    "preprocess": _read_payload,
    "get_block_name": lambda self: "image",
})


def painted_mask(editor: dict[str, Any] | None) -> Image.Image | None:
    """What was painted on the mask canvas, as a white-on-black mask; None when nothing was."""
    if not editor or not editor.get("layers"):
        return None
    alpha = [layer.convert("RGBA").getchannel("A") for layer in editor["layers"]]
    union = alpha[0]
    for layer in alpha[1:]:
        union = ImageChops.lighter(union, layer)
    if union.getbbox() is None:
        return None
    # The brush paints translucent so the photo shows through; any paint means "style here".
    return union.point(lambda a: 255 if a else 0)


def mask_canvas(content: Image.Image | None) -> Image.Image | None:
    """The content, at most MASK_CANVAS px long, for painting the mask on (a new photo clears the old mask)."""
    if content is None:
        return None
    canvas = content.copy()
    canvas.thumbnail((MASK_CANVAS, MASK_CANVAS))
    return canvas


@dataclass
class PageResult:
    """One request's answer: the image, what the styles resolved to, how long it took, the attention view."""

    image: Image.Image
    description: str
    timing: str
    attention: Image.Image | None


class StylePage:
    """The page's request handler: one Stylizer (its model and style caches) shared by every request."""

    def __init__(self, stylizer: Stylizer) -> None:
        self.stylizer = stylizer
        # Gradio's queue already runs one job at a time; the lock keeps the Stylizer safe if the
        # page is mounted in an app with other settings.
        self._lock = threading.Lock()
        self._unavailable: dict[str, str] | None = None

    def unavailable(self) -> dict[str, str]:
        """The Stylizer's unavailable sources, looked up once: the diffusion check may ask the hub."""
        if self._unavailable is None:
            self._unavailable = self.stylizer.unavailable_sources()
        return self._unavailable

    def warm_up(self) -> None:
        """Load the text library now (its sentence encoder takes seconds), so the first prompt does not wait.

        Where it cannot load, nothing happens: a prompt that needs it says why on the page.
        """
        if "library" not in self.unavailable():
            with self._lock:
                self.stylizer.library

    def sources_note(self) -> str:
        """Which text sources work here and, in a visitor's words, why the others do not."""
        unavailable = self.unavailable()
        lines = [f"- **{source}**: " + (f"not available: {VISITOR_REASONS[source]}" if source in unavailable
                                         else "available") for source in TEXT_SOURCES]
        return "What a prompt can become on this server:\n" + "\n".join(lines)

    def log_unavailable_sources(self) -> None:
        """Tell the operator, in the server log, why each unavailable source is so and how to fix it."""
        for source, why in self.unavailable().items():
            print(f"{PROG}: note: the {source} text source is unavailable: {why}", file=sys.stderr, flush=True)

    def run(
        self,
        content: Image.Image | None,
        style_image: Image.Image | None,
        prompt: str,
        image_share: float,
        mask: Image.Image | None,
        *,
        source: str = "library",
        alpha: float = 1.0,
        preserve_color: bool = False,
        match_color: bool = MATCH_COLOR,
        size: int = 512,
        seed: int | None = None,
        attention: bool = False,
    ) -> PageResult:
        """Stylise ``content`` with the style image and/or the prompt; UserError for what the user can fix.

        ``image_share``: the image style's weight when both are given (the prompt gets the rest).
        ``mask``: where the style goes; with both styles, the image style inside and the prompt outside.
        """
        if content is None:
            raise UserError("Upload a content photo, or pick one of the examples below.")
        styles: list[Image.Image | Prompt] = [style_image] if style_image is not None else []
        if prompt.strip():
            if source in self.unavailable():
                raise UserError(f"Prompts cannot become {source} styles here: {VISITOR_REASONS[source]}. "
                                "Pick another source, or upload a style picture.")
            styles.append(Prompt(prompt.strip(), source=source))
        if not styles:
            raise UserError("Give a style: upload a style image, type a prompt, or both.")
        masks = [mask] if mask is not None else []
        mix = [image_share, 1 - image_share] if len(styles) == 2 and not masks else None
        with self._lock:
            out = self.stylizer(content, styles, mix=mix, masks=masks, alpha=alpha, preserve_color=preserve_color,
                                match_color=match_color, size=size, seed=seed, return_attention=attention)
        image = out.pil()
        timing = (f"{out.seconds:.2f} s ({out.style_seconds:.2f} s of it preparing new styles), "
                  f"{image.width}×{image.height} px")
        return PageResult(image, out.description, timing, _attention_picture(out) if attention else None)

    def stylise(
        self, content: Image.Image | None, style_image: Image.Image | None, prompt: str, image_share: float,
        mask: dict[str, Any] | None, source: str, alpha: float, preserve_color: bool, match_color: bool,
        size: float, seed: float | None, attention: bool,
    ) -> tuple[Image.Image, str, str, Image.Image | None]:
        """:meth:`run` with the page's values in and out; what the user can fix becomes a message on the page."""
        try:
            answer = self.run(content, style_image, prompt, image_share, painted_mask(mask), source=source,
                              alpha=alpha, preserve_color=preserve_color, match_color=match_color, size=int(size),
                              seed=None if seed is None else int(seed), attention=attention)
        except UserError as err:
            raise refused(str(err)) from None
        finally:
            release_memory()
        if attention and answer.attention is None:
            gr.Warning("The attention heat-map is drawn on a style picture: upload a style image to see it.")
        return answer.image, answer.description, answer.timing, answer.attention


def _attention_picture(out: StylizerOutput) -> Image.Image | None:
    try:
        return out.attention_picture()
    except UserError:  # only prompts whose styles have no single picture: nothing to draw on
        return None


def build_page(page: StylePage) -> gr.Blocks:
    """The Gradio page on ``page``; queue and launch it (see :func:`serve`)."""
    with gr.Blocks(title="sanet-text", analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        gr.Markdown("# sanet-text\nPaint a photo in the style of a picture, a sentence, or both.")
        with gr.Row():
            with gr.Column():
                content = UploadedImage(label="Content photo", type="pil", sources=["upload", "clipboard"],
                                        height=320, elem_id="content")
                with gr.Accordion("Mask: paint where the style goes (optional)", open=False):
                    mask = gr.ImageEditor(
                        label="Mask", type="pil", sources=(), elem_id="mask", layers=False, transforms=(),
                        brush=gr.Brush(colors=[("#ff00ff", 0.5)], color_mode="fixed"))
                    gr.Markdown("Paint on the photo: the style goes only where you paint and the rest stays "
                                "the photo. With both a style image and a prompt, the image style goes where "
                                "you paint and the prompt's everywhere else.")
                with gr.Row():
                    style_image = UploadedImage(label="Style image", type="pil", sources=["upload", "clipboard"],
                                                height=240, elem_id="style-image")
                    with gr.Column():
                        prompt = gr.Textbox(label="Style in words", placeholder="Van Gogh starry night",
                                            elem_id="prompt")
                        source = gr.Radio(offered_sources(), value=page.stylizer.source,
                                          label="What the prompt becomes", elem_id="source")
                gr.Markdown(page.sources_note(), elem_id="sources")
                image_share = gr.Slider(0, 1, value=0.5, step=0.05, elem_id="mix",
                                        label="Mix: share of the style image when there is also a prompt")
                with gr.Accordion("Options", open=False):
                    alpha = gr.Slider(0, 2, value=1, step=0.05, label="Alpha: style strength (0 = the photo, "
                                      ">1 exaggerates)", elem_id="alpha")
                    preserve_color = gr.Checkbox(label="Preserve the photo's colours", elem_id="preserve-color")
                    match_color = gr.Checkbox(value=MATCH_COLOR, label="Match the style picture's colours (vivid "
                                              "on textures, streaky on smooth gradients)", elem_id="color-match")
                    size = gr.Slider(64, MAX_SIZE, value=512, step=16, label="Size: longer side in pixels",
                                     elem_id="size")
                    seed = gr.Number(value=0, precision=0, label="Seed (diffusion source)", elem_id="seed")
                    attention = gr.Checkbox(label="Show the attention heat-map (needs a style image)",
                                            elem_id="show-attention")
                run = gr.Button("Stylise", variant="primary", elem_id="run")
            with gr.Column():
                result = gr.Image(label="Result (download: full-resolution PNG)", format="png", interactive=False,
                                  buttons=["download", "fullscreen"], elem_id="result")
                description = gr.Textbox(label="Resolved style", interactive=False, elem_id="description")
                timing = gr.Textbox(label="Time", interactive=False, elem_id="timing")
                attention_view = gr.Image(label="Attention: where marked photo points look in the style image",
                                          format="png", interactive=False, elem_id="attention")

        inputs = [content, style_image, prompt, image_share, mask, source, alpha, preserve_color, match_color, size,
                  seed, attention]
        outputs = [result, description, timing, attention_view]

        # Every job on the Stylizer shares one concurrency slot (it serves one call at a time).
        job = {"concurrency_id": "stylizer", "concurrency_limit": 1}
        run.click(page.stylise, inputs, outputs, **job)
        # A new photo gets a clean mask canvas; reading it on upload also shows a bad file's error at once.
        content.upload(mask_canvas, content, mask, **job)
        content.clear(lambda: None, None, mask)
        style_image.upload(lambda _: None, style_image, None, **job)  # reading it is the check

        examples = gr.Examples(
            [[EXAMPLES_DIR / "chelsea.jpg", None, "Van Gogh starry night"],
             [EXAMPLES_DIR / "building.jpg", EXAMPLES_DIR / "starry_night.jpg", ""],
             [EXAMPLES_DIR / "fruits.jpg", None, "watercolor"],
             [EXAMPLES_DIR / "coffee.jpg", EXAMPLES_DIR / "starry_night.jpg", "ink wash"]],
            [content, style_image, prompt], label="Examples: one click for a picture", elem_id="examples")
        # One click stylises: first a fresh mask canvas for the example photo, then the run.
        examples.load_input_event.then(mask_canvas, content, mask, **job).then(page.stylise, inputs, outputs, **job)
    return demo


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog=PROG, description="A web page for sanet-text (Gradio).")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 for the network)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument("--share", action="store_true", help="also serve through a temporary public gradio.live link")
    parser.add_argument("--queue-size", type=int, default=16, help="requests that may wait for their turn (default 16)")
    add_model_options(parser)
    return parser


def serve(demo: gr.Blocks, host: str, port: int, share: bool, queue_size: int, block: bool = True) -> gr.Blocks:
    """Queue (one Stylizer job at a time) and launch ``demo``; ``block=False`` returns once it serves."""
    demo.queue(max_size=queue_size, default_concurrency_limit=1)
    demo.launch(server_name=host, server_port=port, share=share, max_file_size=MAX_UPLOAD, ssr_mode=False,
                footer_links=[], prevent_thread_lock=not block, quiet=False)
    return demo


def run(args: argparse.Namespace) -> int:
    stylizer = Stylizer.from_pretrained(args.weights, config=args.config, vgg_weights=args.vgg_weights,
                                        device=args.device)
    stylizer.model  # loaded now: bad weights stop the command with one line, not every request with a message
    page = StylePage(stylizer)
    page.log_unavailable_sources()
    # The library loads while the server starts and the first page loads; a request waits for it.
    threading.Thread(target=page.warm_up, daemon=True).start()
    serve(build_page(page), args.host, args.port, args.share, args.queue_size)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sanet-text-web`` console script; returns the exit code."""
    return run_command(PROG, lambda: run(build_parser().parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
