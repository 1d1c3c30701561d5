"""GET /api/v1/tasks?q=: word-prefix search over title and description."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import SignedInUser, create_task
from tests.search.helpers import TASKS, assert_problem, listed_ids, patch_task, task_url


async def search(client: httpx.AsyncClient, user: SignedInUser, q: str) -> set[str]:
    return set(await listed_ids(client, user, q=q))


async def test_search_finds_words_in_title_and_description(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    in_title = await create_task(client, alice, title="Buy milk")
    in_description = await create_task(client, alice, title="Errands", description="milk, eggs")
    call = await create_task(client, alice, title="Call mom", description="about dinner")
    assert await search(client, alice, "milk") == {in_title["id"], in_description["id"]}
    assert await search(client, alice, "dinner") == {call["id"]}
    assert await search(client, alice, "errands") == {in_description["id"]}


@pytest.mark.parametrize("q", ["MILK", "Milk", "mIlK"])
async def test_search_ignores_case(client: httpx.AsyncClient, alice: SignedInUser, q: str) -> None:
    task = await create_task(client, alice, title="buy milk", description="")
    other = await create_task(client, alice, title="Whole MILK", description="")
    assert await search(client, alice, q) == {task["id"], other["id"]}


async def test_every_word_of_the_query_must_match(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    both = await create_task(client, alice, title="Buy milk", description="and bread")
    await create_task(client, alice, title="Buy eggs")
    await create_task(client, alice, title="bread only")
    assert await search(client, alice, "milk bread") == {both["id"]}
    assert await search(client, alice, "bread buy") == {both["id"]}
    assert await search(client, alice, "milk butter") == set()


async def test_each_query_word_matches_as_a_word_prefix(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    milk = await create_task(client, alice, title="milk")
    assert await search(client, alice, "mil") == {milk["id"]}
    assert await search(client, alice, "m") == {milk["id"]}
    assert await search(client, alice, "milk") == {milk["id"]}
    # Inside or at the end of a word is not a match.
    assert await search(client, alice, "ilk") == set()
    assert await search(client, alice, "lk") == set()
    assert await search(client, alice, "milky") == set()


@pytest.mark.parametrize("q", ["milk!", "¿milk?", "milk, bread.", "(milk)", "milk;bread", "'milk'"])
async def test_punctuation_in_the_query_is_ignored(
    client: httpx.AsyncClient, alice: SignedInUser, q: str
) -> None:
    task = await create_task(client, alice, title="milk and bread")
    await create_task(client, alice, title="other")
    assert await search(client, alice, q) == {task["id"]}


@pytest.mark.parametrize(
    ("title", "q"),
    [
        ("Buy milk!", "milk"),
        ("milk, eggs", "eggs"),
        ("call mom (urgent)", "urgent"),
        ("e-mail Bob", "mail"),
        ("buy milk/eggs", "eggs"),
        ("see example.com", "com"),
        ("write to x@example.org", "example"),
    ],
)
async def test_punctuation_in_the_text_separates_words(
    client: httpx.AsyncClient, alice: SignedInUser, title: str, q: str
) -> None:
    task = await create_task(client, alice, title=title)
    await create_task(client, alice, title="unrelated")
    assert await search(client, alice, q) == {task["id"]}


@pytest.mark.parametrize("q", ["!!!", "?", "-", "...", "&|!", "'\"", ":*"])
async def test_punctuation_only_query_matches_nothing(
    client: httpx.AsyncClient, alice: SignedInUser, q: str
) -> None:
    await create_task(client, alice, title="anything ! ? - ...")
    assert await search(client, alice, q) == set()


@pytest.mark.parametrize("q", ["", " ", "   "])
async def test_empty_query_does_not_filter(
    client: httpx.AsyncClient, alice: SignedInUser, q: str
) -> None:
    first = await create_task(client, alice, title="one")
    second = await create_task(client, alice, title="two")
    assert await search(client, alice, q) == {first["id"], second["id"]}


@pytest.mark.parametrize(
    "q",
    [
        "a & b",
        "milk:*",
        "milk | !bread",
        'milk" OR "bread',
        "NEAR(milk bread)",
        "milk*",
        "title:milk",
        "a'b",
        "\\",
        "%_",
    ],
)
async def test_search_operators_of_either_backend_are_plain_text(
    client: httpx.AsyncClient, alice: SignedInUser, q: str
) -> None:
    await create_task(client, alice, title="milk")
    response = await client.get(TASKS, params={"q": q}, headers=alice.headers)
    assert response.status_code == 200, response.text


async def test_a_long_query_is_not_an_error(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    task = await create_task(client, alice, title="alpha")
    many_words = " ".join(["alpha"] * 100)[:500]
    assert await search(client, alice, many_words) == {task["id"]}


async def test_a_too_long_query_is_422(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    response = await client.get(TASKS, params={"q": "a" * 10_000}, headers=alice.headers)
    assert_problem(response, 422, param="q")


async def test_results_follow_a_title_edit(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    task = await create_task(client, alice, title="buy milk")
    await patch_task(client, alice, task["id"], title="buy bread")
    assert await search(client, alice, "milk") == set()
    assert await search(client, alice, "bread") == {task["id"]}


async def test_results_follow_a_description_edit(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, title="errands", description="post office")
    await patch_task(client, alice, task["id"], description="bakery")
    assert await search(client, alice, "office") == set()
    assert await search(client, alice, "bak") == {task["id"]}


async def test_results_follow_a_full_replacement(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, title="errands", description="post office")
    response = await client.put(
        task_url(task["id"]), json={"title": "garden"}, headers=alice.headers
    )
    assert response.status_code == 200, response.text
    assert await search(client, alice, "post") == set()
    assert await search(client, alice, "garden") == {task["id"]}


async def test_deleted_task_disappears_from_results(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, title="buy milk")
    kept = await create_task(client, alice, title="milk again")
    response = await client.delete(task_url(task["id"]), headers=alice.headers)
    assert response.status_code == 204
    assert await search(client, alice, "milk") == {kept["id"]}


async def test_other_edits_keep_a_task_findable(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, title="buy milk")
    await patch_task(client, alice, task["id"], priority="high", tags=["x"], completed=True)
    assert await search(client, alice, "milk") == {task["id"]}


async def test_accented_word_matches_itself_in_any_case(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    cafe = await create_task(client, alice, title="Meet at the café")
    upper = await create_task(client, alice, title="CAFÉ NOIR")
    await create_task(client, alice, title="cafeteria")
    both = {cafe["id"], upper["id"]}
    assert await search(client, alice, "café") == both
    assert await search(client, alice, "CAFÉ") == both
    assert await search(client, alice, "Café") == both


async def test_accented_prefix_matches(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    task = await create_task(client, alice, title="Übungsblatt abgeben")
    assert await search(client, alice, "übung") == {task["id"]}
    assert await search(client, alice, "ÜBUNGSBLATT") == {task["id"]}


async def test_digits_are_words(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    task = await create_task(client, alice, title="Room 2048 booking")
    await create_task(client, alice, title="Room 1999")
    assert await search(client, alice, "2048") == {task["id"]}
    assert await search(client, alice, "20") == {task["id"]}


CORPUS = [
    ("Buy milk and eggs", ""),
    ("Call the plumber", "about the leaking sink"),
    ("Plan the birthday party", "invite Sam, book the hall"),
    ("Pay the electricity bill", "due Friday"),
    ("Milkshake recipe", "bananas; milk; ice"),
    ("Book flights to Paris", ""),
]
CORPUS_QUERIES = [
    "milk",
    "mil",
    "MILKSHAKE",
    "the",
    "pa",
    "party plan",
    "bill pay",
    "b",
    "sink leak",
    "xyz",
    "paris BOOK",
    "plumb call the",
    "book",
    "fri due",
    "ice banana",
    "ake",
]


def word_prefix_match(query: str, title: str, description: str) -> bool:
    """The documented rule: every query word is a prefix of a word, ignoring case."""
    words = [word.lower() for word in query.split()]
    text_words = f"{title} {description}".replace(",", " ").replace(";", " ").lower().split()
    return all(any(candidate.startswith(word) for candidate in text_words) for word in words)


async def test_plain_words_give_the_documented_results(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    tasks = [
        await create_task(client, alice, title=title, description=description)
        for title, description in CORPUS
    ]
    for query in CORPUS_QUERIES:
        expected = {
            task["id"]
            for task, (title, description) in zip(tasks, CORPUS, strict=True)
            if word_prefix_match(query, title, description)
        }
        assert await search(client, alice, query) == expected, query
