"""The words of a column's name that point at one of our fields, for ``cvm init --from``:
English, and the German, French, Spanish and Dutch names exports of those countries use
(Kundennummer, Bestellnummer, Warengruppe, Menge; numéro de commande; cantidad)."""

from __future__ import annotations

import re
import unicodedata

# lower case, accents dropped (Stück: stuck), after splitting camelCase, spaces, dashes and
# underscores; the first list is the stronger sign. German names are single words
# (Bestellnummer): each is listed whole.
NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "customer_id": (("customerid", "customer_id", "custid", "clientid", "memberid",
                     "customer", "client", "member", "shopper", "buyer", "kundennummer",
                     "kundennr", "kundenid", "kunde", "numeroclient", "idclient", "cliente",
                     "idcliente", "klant", "klantnummer"),
                    ("cust", "user", "account", "kunde", "kundennr")),
    "date": (("orderdate", "date", "purchasedate", "invoicedate", "transactiondate",
              "bestelldatum", "kaufdatum", "rechnungsdatum", "belegdatum", "datum",
              "datecommande", "fecha", "fechapedido", "besteldatum"),
             ("day", "time", "timestamp", "datum", "ordered", "created", "fecha")),
    "amount": (("netamount", "amount", "revenue", "sales", "dollarvalue", "value", "total",
                "net", "spend", "turnover", "betrag", "umsatz", "nettobetrag", "nettoumsatz",
                "montant", "importe", "bedrag", "omzet"),
               ("price", "sum", "gross", "dollar", "eur", "usd", "preis", "summe", "gesamt",
                "prix", "precio")),
    "cost": (("cost", "cogs", "costofgoods", "kosten", "einstandspreis", "cout", "coste",
              "costo", "kostprijs"), ("purchaseprice", "einkaufspreis")),
    "margin": (("margin", "profit", "grossmargin", "marge", "deckungsbeitrag", "rohertrag",
                "margen"), ()),
    "quantity": (("qty", "quantity", "units", "numberofcds", "items", "menge", "anzahl",
                  "stuck", "stuckzahl", "quantite", "cantidad", "aantal"),
                 ("count", "number")),
    "order_id": (("orderid", "order", "invoice", "invoiceno", "transactionid", "receipt",
                  "ordernumber", "basket", "bestellnummer", "bestellnr", "bestellung",
                  "auftragsnummer", "auftragsnr", "auftrag", "rechnungsnummer", "rechnungsnr",
                  "belegnummer", "belegnr", "commande", "numerocommande", "pedido",
                  "numeropedido", "factura", "bestelling", "bestelnummer"), ("ticket",)),
    "channel": (("saleschannel", "channel", "kanal", "vertriebskanal", "canal",
                 "verkoopkanaal"), ("source", "store")),
    "category": (("category", "productcategory", "department", "productgroup",
                  "warengruppe", "kategorie", "produktgruppe", "produktkategorie",
                  "categorie", "categoria", "rubrik", "familia"),
                 ("family", "segment")),
}


def tokens(name: str) -> list[str]:
    """The words of a column name, lower case, accents dropped: "Stück" is ["stuck"]."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    plain = "".join(c for c in unicodedata.normalize("NFKD", spaced)
                    if not unicodedata.combining(c))
    return [t for t in re.split(r"[^a-z0-9]+", plain.lower().replace("ß", "ss")) if t]


def name_score(field_name: str, column: str) -> int:
    """3: the whole name is one of the field's strong words; 2: whole words of it are
    ("Customer No", "Customer Name"); 1: a weak word, or a strong one inside a word."""
    strong, weak = NAMES[field_name]
    words = tokens(column)
    word = "".join(words)
    if word in strong:
        return 3
    runs = {"".join(words[i:j]) for i in range(len(words))
            for j in range(i + 1, len(words) + 1)}
    if runs & set(strong):
        return 2
    return 1 if any(w in word for w in (*strong, *weak)) else 0
