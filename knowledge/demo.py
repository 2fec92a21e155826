"""Demo articles for `manage.py seed_demo`: collections, public and internal articles, a Finnish version."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from .models import Article, Category
from .services import save_article

CATEGORIES = [
    ("getting-started", "Getting started", "First steps with your account, sign-in and setup.", "public"),
    ("billing", "Billing and invoices", "Plans, payments, invoices and refunds.", "public"),
    ("retail", "For retailers", "Point-of-sale, inventory sync and store setups for shops.", "public"),
    ("agent-playbooks", "Agent playbooks", "How we handle tricky cases. Internal only.", "internal"),
]

ARTICLES = [
    ("reset-your-password", "getting-started", "Reset your password", ["account", "login", "password"], "public",
     "If you forgot your password, open the sign-in page and choose **Forgot password?**.\n\n"
     "1. Enter the email address of your account.\n2. Open the link we send you (valid for 1 hour).\n"
     "3. Choose a new password of at least 10 characters.\n\nDidn't get the email? Check your spam folder, "
     "or ask us to resend it."),
    ("enable-two-factor-authentication", "getting-started", "Enable two-factor authentication", ["account", "security", "2fa"], "public",
     "Two-factor authentication protects your account even if your password leaks.\n\n"
     "Go to **Settings → Security**, choose *Authenticator app* and scan the QR code with an app such as "
     "FreeOTP or Aegis. Keep the recovery codes somewhere safe."),
    ("change-your-email-address", "getting-started", "Change the email address of your account", ["account", "email"], "public",
     "Open **Settings → Profile**, enter the new address and confirm it from the message we send there. "
     "Until you confirm, sign-in keeps using the old address."),
    ("download-invoices", "billing", "Download your invoices", ["billing", "invoice", "pdf"], "public",
     "Every invoice is available as a PDF under **Billing → Invoices**. Choose the month and click *Download*. "
     "Invoices include your VAT number when you have entered one."),
    ("refund-policy", "billing", "Refunds and cancellations", ["billing", "refund"], "public",
     "You can cancel at any time; the plan stays active until the end of the paid period. "
     "Annual plans cancelled within 14 days are refunded in full to the original payment method."),
    ("update-payment-card", "billing", "Update your payment card", ["billing", "card", "payment"], "public",
     "Go to **Billing → Payment method** and choose *Replace card*. A failed payment is retried "
     "automatically three times over a week; updating the card retries it immediately."),
    ("connect-your-pos", "retail", "Connect your point-of-sale system", ["retail", "pos", "integration"], "public",
     "Shops can sync sales from their point-of-sale system. Open **Integrations**, pick your POS vendor, "
     "and paste the API key from the vendor's admin panel. Sales appear within five minutes."),
    ("inventory-sync-troubleshooting", "retail", "Inventory sync is not updating", ["retail", "inventory", "sync"], "public",
     "If stock levels stop updating, check that the integration shows **Connected**. Reconnect it if the "
     "vendor rotated the API key. Items without a SKU are skipped; add SKUs and run *Sync now*."),
    ("refund-exceptions-playbook", "agent-playbooks", "Playbook: refund exceptions", ["billing", "refund", "playbook"], "internal",
     "Refunds outside the 14-day window need a supervisor's approval. Add the tag `refund-exception`, "
     "write an internal note with the reason, and assign the ticket to the Billing team lead."),
    ("account-takeover-playbook", "agent-playbooks", "Playbook: suspected account takeover", ["security", "playbook"], "internal",
     "Never reveal whether an email address has an account. Lock the account from the admin tool, "
     "ask the customer to verify with the last invoice number, then reset two-factor authentication."),
]

FINNISH = {
    "reset-your-password": ("Salasanan vaihtaminen", ["tili", "kirjautuminen", "salasana"],
        "Jos unohdit salasanasi, avaa kirjautumissivu ja valitse **Unohtuiko salasana?**.\n\n"
        "1. Anna tilisi sähköpostiosoite.\n2. Avaa lähettämämme linkki (voimassa tunnin).\n"
        "3. Valitse uusi, vähintään 10 merkin salasana."),
    "download-invoices": ("Laskujen lataaminen", ["laskutus", "lasku", "pdf"],
        "Kaikki laskut löytyvät PDF-muodossa kohdasta **Laskutus → Laskut**. Valitse kuukausi ja napsauta *Lataa*."),
}


def seed(stdout) -> None:
    if Article.objects.exists():
        stdout.write("knowledge: articles exist, skipped")
        return
    author = get_user_model().objects.filter(username="admin").first()
    categories = {}
    for position, (slug, name, description, visibility) in enumerate(CATEGORIES):
        categories[slug], _created = Category.objects.get_or_create(
            slug=slug, defaults={"name": name, "description": description, "visibility": visibility, "position": position}
        )
    originals = {}
    for slug, category, title, tags, visibility, body in ARTICLES:
        originals[slug] = save_article(
            author=author, title=title, slug=slug, body=body, category=categories[category], tags=tags,
            visibility=visibility, status="published", language="en",
        )  # fmt: skip
    for slug, (title, tags, body) in FINNISH.items():
        original = originals[slug]
        save_article(
            author=author, title=title, slug=f"{slug}-fi", body=body, category=original.category, tags=tags,
            visibility="public", status="published", language="fi", translation_of=original,
        )  # fmt: skip
    save_article(author=author, title="Draft: new mobile app FAQ", body="Work in progress.", category=categories["getting-started"], status="draft")
    stdout.write(f"knowledge: {Article.objects.count()} articles in {len(categories)} categories")
