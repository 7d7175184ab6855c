"""The words of a column's name that point at one of our fields, for ``cvm init --from``:
English, and the German, French, Spanish, Dutch, Italian and Polish names exports of those
countries use (Kundennummer, Bestellnummer, Warengruppe, Menge; numéro de commande; cantidad;
importo; kwota), and the words that make a money column something else (a tax, a discount)."""

from __future__ import annotations

import re
import unicodedata

# English words, lower case, after splitting camelCase, spaces, dashes and underscores; the
# first list is the stronger sign. Each is also looked for inside a name (``custno``).
NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "customer_id": (("customerid", "customer_id", "custid", "clientid", "memberid",
                     "customer", "client", "member", "shopper", "buyer"),
                    ("cust", "user", "account", "email")),
    "date": (("orderdate", "date", "purchasedate", "invoicedate", "transactiondate"),
             ("day", "time", "timestamp", "ordered", "created")),
    "amount": (("netamount", "amount", "revenue", "sales", "dollarvalue", "value", "total",
                "net", "spend", "turnover"),
               ("price", "sum", "gross", "dollar", "eur", "usd")),
    "cost": (("cost", "cogs", "costofgoods"), ("purchaseprice",)),
    "margin": (("margin", "profit", "grossmargin"), ()),
    "quantity": (("qty", "quantity", "units", "numberofcds", "items"), ("count", "number")),
    "order_id": (("orderid", "order", "invoice", "invoiceno", "transactionid", "receipt",
                  "ordernumber", "basket"), ("ticket",)),
    "channel": (("saleschannel", "channel"), ("source", "store")),
    "category": (("category", "productcategory", "department", "productgroup"),
                 ("family", "segment")),
}
# German, French, Spanish, Dutch, Italian and Polish words, accents dropped (Stück: stuck):
# a whole name, a word of it, or the last part of a compound (Rechnungs-betrag, Liefer-datum),
# which is what a German compound is; never a first part (Umsatz-steuer is a tax,
# Kosten-stelle a cost centre, Auftrags-art an order type).
FOREIGN: dict[str, tuple[str, ...]] = {
    "customer_id": ("kundennummer", "kundennr", "kundenid", "kunde", "kunden", "numeroclient",
                    "idclient", "cliente", "idcliente", "klant", "klantnummer", "klantnr",
                    "klient"),
    "date": ("bestelldatum", "kaufdatum", "rechnungsdatum", "belegdatum", "auftragsdatum",
             "datum", "datecommande", "fecha", "fechapedido", "besteldatum", "data"),
    "amount": ("betrag", "umsatz", "nettoumsatz", "nettobetrag", "bestellwert", "warenwert",
               "auftragswert", "wert", "brutto", "netto", "gesamtpreis", "gesamt", "summe",
               "preis", "erlos", "erlose", "umsatzerlose", "vk", "montant", "importe", "bedrag",
               "omzet", "totaal", "prix", "precio", "prijs", "ventas", "venta",
               "chiffredaffaires", "ca", "importo", "totale", "fatturato", "prezzo", "kwota",
               "wartosc", "sprzedaz", "cena"),
    "cost": ("kosten", "einkaufspreis", "einstandspreis", "wareneinsatz", "cout", "coste",
             "costo", "kostprijs", "inkoopprijs"),
    "margin": ("marge", "deckungsbeitrag", "rohertrag", "rohgewinn", "margen"),
    "quantity": ("menge", "anzahl", "stuck", "stuckzahl", "quantite", "cantidad", "aantal",
                 "quantita", "ilosc"),
    "order_id": ("bestellnummer", "bestellnr", "bestellung", "auftragsnummer", "auftragsnr",
                 "auftrag", "rechnungsnummer", "rechnungsnr", "belegnummer", "belegnr",
                 "commande", "numerocommande", "pedido", "numeropedido", "factura",
                 "bestelling", "bestelnummer", "ordernummer", "bonnummer", "bonnr",
                 "kassenbon", "ordine", "numeroordine", "scontrino", "zamowienie",
                 "zamowienia", "paragon"),
    "channel": ("kanal", "vertriebskanal", "canal", "verkoopkanaal"),
    "category": ("warengruppe", "kategorie", "produktgruppe", "produktkategorie", "categorie",
                 "categoria", "rubrik", "familia", "artikelgruppe"),
}
MONEY = ("amount", "cost", "margin")
# the start of a word that makes a money column something else: a tax, a discount or
# voucher, shipping, a refund, a price per unit or list price, a share, a cost centre (Tax
# Amount, Total Tax, USt-Betrag, Importe IVA, Gutscheinbetrag, Versandkosten, Unit Price,
# Einzelpreis, Coût unitaire, Kostenstelle); not after incl/excl (Bedrag incl. BTW is the
# amount); a % in the name is a share, a word ending in steuer a tax (Umsatzsteuer)
NOT_MONEY = ("tax", "vat", "tva", "iva", "btw", "ust", "mwst", "steuer", "impuesto", "imposta",
             "podatek", "discount", "rabat", "skonto", "gutschein", "voucher", "coupon",
             "remise", "descuento", "sconto", "korting", "shipping", "versand", "porto",
             "freight", "fracht", "envio", "livraison", "verzend", "spedizione", "refund",
             "erstattung", "storno", "unit", "einzelpreis", "einzelbetrag", "stuck", "stuk",
             "each", "pct", "percent", "kostenstelle")
# words that start like one of those and are amounts: the price paid after a discount, the
# net before tax, a taxi fare
ALLOWED = frozenset(("taxable", "vatable", "taxi", "discounted", "rabattiert", "rabattierter"))
LIST_PRICE = frozenset(("list", "listen", "lista", "listprice", "listenpreis"))
# a word before a tax word that makes the amount include or exclude it (Total incl. VAT,
# Net of VAT, Pre-tax Total, Amount w/o tax), or after it (Total IVA incluido)
QUALIFIERS = frozenset(("incl", "excl", "inkl", "exkl", "inc", "exc", "including", "excluding",
                        "ohne", "mit", "nach", "plus", "before", "after", "less", "without",
                        "with", "of", "pre", "o", "hors", "sans", "avec", "sin", "con", "zonder",
                        "met", "ex", "z", "bez"))
AFTER = frozenset(("incl", "inkl", "inc", "included", "inclusive", "incluido", "incluida",
                   "inclusa", "incluso", "compris", "comprise", "inclus", "incluse",
                   "inbegrepen", "inclusief"))
NOT_AMOUNT = ("einkauf", "einstand", "cost", "kosten", "cout", "coste", "costo", "inkoop",
              "margin", "marge", "profit", "gewinn")
IDS = frozenset(("id", "number", "no", "nr", "num", "nummer", "record", "ref", "reference",
                 "document", "dokument", "beleg"))
# words of an order's other columns: never its id (Order Status, Order Qty, Order Date)
NOT_ORDER = frozenset(("status", "type", "art", "stage", "state", "qty", "quantity", "amount",
                       "total", "value", "date", "datum"))
SUMS = frozenset(("total", "amount", "value", "sum", "betrag", "wert", "summe", "net", "gross"))


def tokens(name: str) -> list[str]:
    """The words of a column name, lower case, accents dropped: "Stück" is ["stuck"]."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    plain = "".join(c for c in unicodedata.normalize("NFKD", spaced)
                    if not unicodedata.combining(c))
    return [t for t in re.split(r"[^a-z0-9]+", plain.lower().replace("ß", "ss")) if t]


def not_money(column: str) -> bool:
    """A column named like an amount, a cost or a margin that is something else: a tax, a
    discount, shipping, a refund, a unit or list price, a share, an id."""
    words = tokens(column)
    return "%" in column or bool(IDS & set(words)) or any(
        (w.startswith(NOT_MONEY) or w.endswith("steuer") or w in LIST_PRICE)
        and w not in ALLOWED and (i == 0 or words[i - 1] not in QUALIFIERS)
        and (i + 1 == len(words) or words[i + 1] not in AFTER) for i, w in enumerate(words))


def net_first(column: str) -> int:
    """The order among amount columns named alike: net before gross (Nettobetrag before
    Bruttobetrag, Umsatz netto before Umsatz brutto): 0 net, 1 neither, 2 gross."""
    # English "net" is no sign (net of fees at Etsy, PayPal), but "gross" is: Net Sales
    # before Gross Sales, Order Value before Order Net as written
    words = tokens(column)
    if any(w.startswith(("netto", "neto")) or w in ("ht", "excl", "exkl", "ohne")
           for w in words):
        return 0
    return 2 if any(w.startswith(("brutto", "bruto", "gross")) or w in ("ttc", "incl", "inkl")
                    for w in words) else 1


def name_score(field_name: str, column: str) -> int:
    """3: the whole name is one of the field's strong words; 2: whole words of it are
    ("Customer No", "Customer Name"); 1: a weak word, a strong one inside a word, or a
    foreign word ending one (Rechnungsbetrag)."""
    if (field_name in MONEY and not_money(column)) or (field_name == "amount" and any(
            w.startswith(NOT_AMOUNT) for w in tokens(column))):  # a purchase price: a cost
        return 0
    words = tokens(column)
    if field_name == "quantity" and (any(w.startswith(("discount", "rabat", "tax", "ship"))
                                         for w in words) or (IDS & set(words) and name_score(
                                             "order_id", column) >= 2)):  # Order Number
        return 0
    if field_name == "order_id" and NOT_ORDER & set(words):
        return 0
    if field_name == "amount" and "order" in words and not SUMS & set(words):  # Sales Order
        return 0
    strong, weak = NAMES[field_name]
    foreign = FOREIGN.get(field_name, ())
    words = tokens(column)
    word = "".join(words)
    if word in strong or word in foreign:
        return 3
    runs = {"".join(words[i:j]) for i in range(len(words))
            for j in range(i + 1, len(words) + 1)}
    if runs & {*strong, *foreign}:
        return 2
    if any(w in word for w in (*strong, *weak)) or compound(column, foreign):
        return 1
    return 0


def compound(column: str, words: tuple[str, ...]) -> bool:
    """A word of ``column`` ends with one of ``words`` of four letters or more (Rechnungsbetrag:
    betrag; not the 'ca' of Musica)."""
    return any(t.endswith(w) for t in tokens(column) for w in words if len(w) >= 4)


def money_named(column: str) -> bool:
    """Named like an amount, a cost or a margin by its whole name or words, or as the last
    part of a compound: where a decimal mark may be guessed from (not 'Network IDs', whose
    'net' is inside a word)."""
    return not not_money(column) and any(
        name_score(f, column) >= 2 or compound(column, FOREIGN[f]) for f in MONEY)
