"""Language detection (py3langid limited to the project's languages) and per-language metrics."""

from __future__ import annotations

import pytest

from pipeline.evaluation.language import LANGUAGES, UNDETERMINED, detect_language, per_language_metrics

SAMPLES = {
    "en": ["Write a short poem about the sea and the wind", "How does a heat pump work in winter?"],
    "es": ["Escribe un poema sobre el mar y la luna", "¿Cómo puedo mejorar mi currículum para un trabajo?"],
    "fr": ["Écris un poème sur la mer et le vent", "Pourquoi le ciel est-il bleu pendant la journée ?"],
    "de": ["Schreibe ein Gedicht über das Meer und den Wind", "Wie funktioniert eine Wärmepumpe im Winter?"],
    "it": ["Scrivi una poesia sul mare e il vento", "Perché il cielo è blu durante il giorno?"],
    "pt": ["Escreva um poema sobre o mar e o vento", "Você pode me explicar como funciona a fotossíntese?"],
    "nl": ["Schrijf een gedicht over de zee en de wind", "Hoe werkt een warmtepomp in de winter?"],
    "ru": ["Напиши стихотворение о море и ветре", "Почему небо голубое днём?"],
    "uk": ["Напиши вірш про море і вітер", "Чому небо блакитне вдень?"],
    "zh": ["写一首关于大海和风的诗", "为什么天空是蓝色的？"],
    "ja": ["海と風についての詩を書いてください", "なぜ空は青いのですか？"],
    "ko": ["바다와 바람에 대한 시를 써 주세요", "하늘은 왜 파란가요?"],
    "ar": ["اكتب قصيدة عن البحر والريح", "لماذا السماء زرقاء؟"],
    "hi": ["समुद्र और हवा के बारे में एक कविता लिखें", "आसमान नीला क्यों है?"],
    "el": ["Γράψε ένα ποίημα για τη θάλασσα", "Γιατί ο ουρανός είναι μπλε;"],
    "he": ["כתוב שיר על הים והרוח", "למה השמיים כחולים?"],
    "th": ["เขียนบทกวีเกี่ยวกับทะเล", "ทำไมท้องฟ้าถึงเป็นสีฟ้า"],
    # languages of the generator's foreign prompts that the stop-word detector did not know
    "pl": ["Dziękuję za szybką odpowiedź.", "Napisz wiersz o jesieni."],
    "tr": ["Yarın sabah erken kalkmam gerekiyor.", "Bu kitabı çok beğendim."],
    "vi": ["Tại sao lá cây đổi màu vào mùa thu?"],
    "id": ["Buatkan puisi tentang hujan."],
}


@pytest.mark.parametrize(("lang", "text"), [(lang, t) for lang, texts in SAMPLES.items() for t in texts])
def test_detects_language(lang, text):
    assert detect_language(text) == lang


def test_undetermined_without_letters():
    assert detect_language("") == UNDETERMINED
    assert detect_language("12 + 7 = ?") == UNDETERMINED


def test_answers_only_the_project_languages():
    """Unrestricted, py3langid called these short English prompts Nigerian Pidgin and Afrikaans."""
    for text in ("pun about cheese", "short poem for my mom's 60th birthday card", "hi"):
        assert detect_language(text) in LANGUAGES


def test_code_heavy_english_prompt_stays_english():
    assert detect_language("fix this: for i in range(10) print(i) -- what is wrong with the loop?") == "en"


def test_majority_script_wins_for_mixed_text():
    assert detect_language("把这句话翻译成英文：我今天很高兴见到你 ok") == "zh"


def test_per_language_metrics_groups_rows():
    texts = SAMPLES["en"] + SAMPLES["de"] + SAMPLES["ja"][:1]
    y_true = ["creative_writing", "question_answering", "creative_writing", "question_answering", "creative_writing"]
    y_pred = ["creative_writing", "question_answering", "creative_writing", "creative_writing", "creative_writing"]
    out = per_language_metrics(texts, y_true, y_pred)
    assert list(out) == ["de", "en", "ja"]  # by row count, then code
    assert out["en"] == {"n": 2, "accuracy": 1.0, "weighted_f1": 1.0, "macro_f1": 1.0}
    assert out["de"]["n"] == 2 and out["de"]["accuracy"] == 0.5
    assert out["ja"]["n"] == 1 and out["ja"]["accuracy"] == 1.0


def test_per_language_metrics_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="lengths differ"):
        per_language_metrics(["a"], ["x", "y"], ["x"])
