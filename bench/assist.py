"""`python -m bench assist`: quality and speed of reply suggestions.

Builds a labelled set in demo style: answers (canned responses, KB articles, past replies that closed a
ticket) whose customer questions are known. The questions asked here are held out of the index (a past
reply is indexed with the one question its ticket had, and asked with other phrasings), among a few thousand
unrelated past replies. Reports top-1 / top-3 hit rate and latency (median, p95) of the lexical path and, when
the `semantic` extra is importable, of the re-ranked path, in the same run.

    python -m bench assist [--noise 3000] [--runs 3]
    PYTHONPATH=/path/to/semantic-extra python -m bench assist      # adds the re-ranker figures
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from bench.common import ensure_database, percentile, setup_django

# (source, title, answer, [questions...]); the first question of a past reply is the one its ticket had.
TOPICS: list[tuple[str, str, str, list[str]]] = [
    ("canned", "Password reset", "To reset your password open the login page, click 'Forgot password' and follow the link we email you. The link is valid for one hour.",
     ["I forgot my password", "How can I reset my password?", "The login says my password is wrong, I can't remember it", "need a new password for my account", "password reset please"]),
    ("canned", "Reset link expired", "Reset links are valid for one hour. Request a new one from the login page and use it right away.",
     ["The reset link says it expired", "my password link does not work anymore, expired", "Reset email link is no longer valid", "expired link when resetting"]),
    ("canned", "Two-factor code not arriving", "If the two-factor code does not arrive, check the phone number under Security, wait a minute and request a new code. You can also use a backup code.",
     ["I never get the 2FA code by SMS", "two factor authentication code not arriving", "The verification code doesn't come to my phone", "no security code sms"]),
    ("canned", "Change email address", "You can change your email address under Account > Profile. We send a confirmation to the new address before it takes effect.",
     ["How do I change the email on my account?", "I want to update my email address", "new email address for login", "change my e-mail"]),
    ("canned", "Close account", "We are sorry to see you go. You can close your account under Account > Privacy > Close account; your data is deleted after 30 days.",
     ["Please delete my account", "How do I close my account?", "I want to cancel and remove all my data", "remove my profile permanently"]),
    ("canned", "Opening hours", "Our support team is available Monday to Friday 8:00-18:00 (Finnish time). Outside these hours you can leave a message and we answer the next working day.",
     ["When are you open?", "what are your support hours", "Is customer service available on weekends?", "opening times of support"]),
    ("canned", "Invoice copy", "You can download copies of all invoices under Account > Billing > Invoices as PDF.",
     ["Can you send me a copy of my invoice?", "where do I find my invoices", "I need the invoice as PDF for accounting", "download old bills"]),
    ("canned", "Update card", "To update your payment card go to Account > Billing > Payment method and add the new card; the old one is removed automatically.",
     ["My credit card expired, how do I update it?", "change the payment card", "new card details for billing", "update credit card on file"]),
    ("canned", "Tilauksen seuranta", "Näet tilauksesi tilan ja seurantakoodin kohdasta Oma tili > Tilaukset. Seurantalinkki lähetetään myös sähköpostiisi, kun paketti lähtee.",
     ["Missä tilaukseni on?", "Miten voin seurata tilaustani?", "En ole saanut seurantakoodia tilaukselle", "tilauksen seuranta ei toimi"]),
    ("canned", "Salasanan vaihto", "Voit vaihtaa salasanasi kirjautumissivulla valitsemalla Unohtuiko salasana. Lähetämme vaihtolinkin sähköpostiisi.",
     ["Unohdin salasanani", "Miten vaihdan salasanan?", "salasana ei kelpaa enää, miten vaihdan sen", "tarvitsen uuden salasanan"]),
    ("article", "Returns and refunds", "You can return items within 30 days of delivery for a full refund. Start the return from Orders, print the label and drop the parcel at any pickup point. Refunds reach your account within 5 working days after we receive the item.",
     ["How do I return an item?", "I want my money back for the shoes", "return policy and refund time", "Can I send back a product I don't like?", "how long does a refund take"]),
    ("article", "Delivery times", "Orders ship within one working day. Delivery takes 2-4 working days in Finland and 4-8 days elsewhere in the EU. You get a tracking link by email when the parcel leaves.",
     ["How long does shipping take?", "When will my package arrive?", "delivery time to Sweden", "how many days for delivery"]),
    ("article", "Change delivery address", "You can change the delivery address until the order ships: open the order under Orders and choose Edit address. After shipping, contact the carrier with your tracking code.",
     ["I entered the wrong shipping address", "Can I change where my order is delivered?", "update the delivery address of my order", "wrong address on the parcel"]),
    ("article", "Damaged item", "If an item arrives damaged, take a photo of the item and the packaging and send it to us within 14 days. We send a replacement or refund the item, and you do not need to return it.",
     ["My order arrived broken", "The product is damaged, what do I do?", "package was crushed and item broken", "received a defective item"]),
    ("article", "Missing item in order", "If something is missing from your parcel, check whether the order was split into several shipments under Orders. If not, tell us the order number and the missing item and we ship it at once.",
     ["An item is missing from my package", "I only got part of my order", "one product was not in the box", "parcel incomplete"]),
    ("article", "Payment methods", "We accept Visa, Mastercard, MobilePay, PayPal, bank transfer and invoice (Klarna). Gift cards can be combined with any of them.",
     ["Which payment methods do you accept?", "Can I pay with PayPal?", "do you take mobilepay", "pay by invoice possible?"]),
    ("article", "Discount codes", "Enter a discount code in the basket before checkout. Only one code can be used per order and codes cannot be applied to orders already placed.",
     ["My discount code doesn't work", "where do I enter the promo code", "coupon code not accepted", "can I use two discount codes"]),
    ("article", "Gift cards", "Gift cards are valid for two years and can be used for any product. The balance is shown at checkout and under Account > Gift cards.",
     ["How do I check my gift card balance?", "does the gift card expire", "using a gift card for payment", "gift card validity"]),
    ("article", "Cancel an order", "You can cancel an order until it ships: open it under Orders and choose Cancel. Shipped orders can be returned for a refund instead.",
     ["I want to cancel my order", "How can I cancel an order I just placed?", "cancel purchase before shipping", "stop my order please"]),
    ("article", "Palautukset", "Voit palauttaa tuotteet 30 päivän kuluessa toimituksesta. Aloita palautus kohdasta Tilaukset, tulosta palautuslappu ja vie paketti noutopisteeseen. Rahat palautetaan viiden arkipäivän kuluessa.",
     ["Miten palautan tuotteen?", "Haluan rahat takaisin kengistä", "palautusoikeus ja hyvitys", "kuinka kauan palautuksen hyvitys kestää"]),
    ("article", "Toimitusajat", "Tilaukset lähtevät yhden arkipäivän kuluessa. Toimitus kestää Suomessa 2-4 arkipäivää. Saat seurantalinkin sähköpostiisi, kun paketti lähtee.",
     ["Kauanko toimitus kestää?", "Milloin pakettini saapuu?", "toimitusaika Suomeen", "montako päivää toimituksessa menee"]),
    ("article", "Maksutavat", "Hyväksymme Visa- ja Mastercard-kortit, MobilePayn, PayPalin, verkkopankin ja laskun. Lahjakortin voi yhdistää mihin tahansa maksutapaan.",
     ["Mitä maksutapoja teillä on?", "Voinko maksaa MobilePaylla?", "käykö lasku maksutavaksi", "maksaminen paypalilla"]),
    ("reply", "Charged twice for one order", "I am sorry about that: the second charge was a duplicate authorisation. I have released it and it disappears from your statement within 3-5 banking days.",
     ["I was charged twice for the same order", "Two payments taken for one purchase", "double charge on my credit card", "you billed me two times"]),
    ("reply", "VAT number missing on invoice", "I added your company's VAT number to the invoice and sent the corrected invoice to your email.",
     ["My company VAT number is not on the invoice", "Please add our VAT ID to the bill", "invoice needs our business id", "VAT number missing from receipt"]),
    ("reply", "App crashes on start", "Thanks for the details. Version 4.2.1 fixes this crash: please update the app from the store, and if it still crashes, reinstall it.",
     ["The app crashes as soon as I open it", "Application closes immediately on startup", "app keeps crashing on launch", "mobile app stops when starting"]),
    ("reply", "Account locked", "Your account was locked after too many login attempts. I have unlocked it; you can log in again now, and resetting the password is a good idea.",
     ["My account is locked", "It says too many login attempts and I am locked out", "cannot log in, account blocked", "locked out of my account"]),
    ("reply", "Newsletter unsubscribe", "I have removed your address from our newsletter list. You can also unsubscribe any time from the link at the bottom of each newsletter.",
     ["Stop sending me newsletters", "How do I unsubscribe from your emails?", "remove me from the mailing list", "too many marketing emails"]),
    ("reply", "Price drop after purchase", "Good news: we match our own price within 14 days of purchase. I have refunded the difference to your original payment method.",
     ["The price dropped right after I bought it", "Can I get the difference back, it is cheaper now", "item on sale a week after my order", "price went down after purchase"]),
    ("reply", "Lasku väärällä nimellä", "Korjasin laskun nimen ja lähetin uuden laskun sähköpostiisi.",
     ["Laskussa on väärä nimi", "Nimi on laskulla väärin, voitteko korjata", "laskun nimi pitää korjata", "väärä nimi kuitissa"]),
    ("reply", "Tuote rikki perillä", "Pahoittelut! Lähetimme uuden tuotteen tänään, eikä rikkinäistä tarvitse palauttaa.",
     ["Tuote tuli rikki", "Paketti oli rikki ja tuote hajonnut", "sain viallisen tuotteen", "tilaus saapui vaurioituneena"]),
]

NOISE_SUBJECTS = [
    "question about {x}", "{x} issue", "problem with {x}", "help with {x}", "{x}?", "follow-up on {x}", "kysymys: {x}", "{x} ongelma",
]
_NOISE_TEXT = (
    "warranty colour size wishlist stock restock catalogue review rating newsletter loyalty points membership store opening "
    "pickup locker spare parts manual instructions assembly furniture battery charger cable adapter firmware bluetooth pairing "
    "headphones speaker television remote subscription renewal plan upgrade downgrade trial family sharing language settings "
    "notifications dark mode accessibility font export import backup calendar sync contacts photos storage quota invite team "
    "takuu väri koko toivelista varasto arvostelu kanta-asiakas pisteet jäsenyys myymälä nouto varaosat ohje kokoaminen akku "
    "laturi kaapeli päivitys kuuntelu kaiutin kaukosäädin tilaus uusinta kokeilu perhe asetukset ilmoitukset varmuuskopio"
)
NOISE_WORDS = _NOISE_TEXT.split()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench assist")
    parser.add_argument("--noise", type=int, default=3000, help="unrelated past replies in the index")
    parser.add_argument("--runs", type=int, default=3, help="timed passes over the question set")
    args = parser.parse_args(argv)

    setup_django("postgres://postgres@127.0.0.1:5432/helpdesk_bench_assist")
    ensure_database()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from assist import indexing, retrieval, semantic
    from assist.models import IndexDoc

    t0 = time.perf_counter()
    IndexDoc.objects.all().delete()
    questions = _load(indexing, args.noise)
    load_s = time.perf_counter() - t0
    retrieval.reset_cache()
    t0 = time.perf_counter()
    retrieval.current_index()
    build_ms = (time.perf_counter() - t0) * 1000
    docs = IndexDoc.objects.count()
    print(f"index: {docs} docs ({len(TOPICS)} labelled answers + {args.noise} unrelated past replies), loaded in {load_s:.1f} s, BM25 matrix built in {build_ms:.0f} ms")
    print(f"labelled questions (held out of the index): {len(questions)}")

    modes = [("lexical (bm25s + PyStemmer)", False)]
    if not semantic.available():
        print("re-ranker: not measured (the `semantic` extra is not importable in this environment)")
    elif semantic._load() is None:
        print("re-ranker: not measured (the model could not be loaded; see the log above)")
    else:
        modes.append(("lexical + MiniLM re-ranker", True))
    for label, rerank in modes:
        top1, top3, latencies = _evaluate(retrieval, questions, rerank=rerank, runs=args.runs)
        print(
            f"{label}: top-1 {top1:.3f}, top-3 {top3:.3f}; latency median {statistics.median(latencies):.1f} ms, "
            f"p95 {percentile(latencies, 95):.1f} ms (n={len(latencies)})"
        )
    return 0


def _load(indexing, noise: int) -> list[tuple[str, tuple[str, int]]]:
    questions = []
    for ref, (source, title, answer, asked) in enumerate(TOPICS, start=1):
        if source == "reply":
            # As indexing.index_ticket does: subject, the ticket's question, the closing reply.
            indexing.upsert_doc("reply", ref, title=title, match=f"{title}\n{asked[0]}\n{answer}", answer=answer)
            held_out = asked[1:]
        else:
            # As indexing.index_canned / index_article do.
            match = f"{title}\n{title}\n{answer}"
            indexing.upsert_doc(source, ref, title=title, match=match, answer=answer, url=f"/kb/topic-{ref}/" if source == "article" else "")
            held_out = asked
        questions += [(q, (source, ref)) for q in held_out]
    rng = random.Random(8)
    for n in range(noise):
        words = rng.sample(NOISE_WORDS, 6)
        subject = rng.choice(NOISE_SUBJECTS).format(x=" ".join(words[:2]))
        body = " ".join(rng.sample(NOISE_WORDS, 12))
        indexing.upsert_doc("reply", 100_000 + n, title=subject, match=f"{subject}\n{body}", answer=f"About {words[0]}: {body}.")
    return questions


def _evaluate(retrieval, questions, *, rerank: bool, runs: int):
    for q, _label in questions[:5]:  # warm up (loads the model when re-ranking)
        retrieval.search(q, team_ids=None, rerank=rerank)
    top1 = top3 = 0
    latencies = []
    for run in range(runs):
        for question, label in questions:
            start = time.perf_counter()
            hits = retrieval.search(question, team_ids=None, k=3, rerank=rerank)
            latencies.append((time.perf_counter() - start) * 1000)
            if run == 0:
                keys = [(h.source, h.ref) for h in hits]
                top1 += bool(keys) and keys[0] == label
                top3 += label in keys
    return top1 / len(questions), top3 / len(questions), latencies
