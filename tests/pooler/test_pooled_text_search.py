"""Full-text search, through PgBouncer in transaction mode.

A selection of the search tests (the heavily parametrized ones add nothing here); the
fixtures of tests/pooler/conftest.py apply.
"""

from tests.search.test_text_search import (
    test_deleted_task_disappears_from_results,
    test_each_query_word_matches_as_a_word_prefix,
    test_every_word_of_the_query_must_match,
    test_plain_words_give_the_documented_results,
    test_results_follow_a_full_replacement,
    test_results_follow_a_title_edit,
    test_search_finds_words_in_title_and_description,
)

__all__ = [
    "test_deleted_task_disappears_from_results",
    "test_each_query_word_matches_as_a_word_prefix",
    "test_every_word_of_the_query_must_match",
    "test_plain_words_give_the_documented_results",
    "test_results_follow_a_full_replacement",
    "test_results_follow_a_title_edit",
    "test_search_finds_words_in_title_and_description",
]
