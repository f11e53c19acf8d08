# EMMA's browser UI, German (the default language).
# Words as the users say them: see the word list in the design brief.

product-name = EMMA
product-claim = E-Mail-Marketing für Sparkassen
skip-to-content = Zum Inhalt springen
footer-text = EMMA – Ihre Daten bleiben im Institut.
language-switch-en = English
language-switch-de = Deutsch
nav-label = Hauptnavigation
sign-out = Abmelden

## Navigation and overview

nav-overview = Übersicht
nav-users = Benutzerverwaltung
nav-users-description = Benutzer anlegen und ihre Rollen sehen.
nav-tenants = Mandanten
nav-tenants-description = Die Institute der Plattform sehen und anlegen.
nav-audit = Änderungsprotokoll
nav-audit-description = Wer hat wann was geändert – mit CSV-Export.
nav-account = Konto
nav-account-description = Kennwort ändern und zweiten Faktor einrichten.
overview-welcome = Willkommen, { $name }!
overview-role-operator = Sie betreiben die Plattform: Mandanten anlegen und verwalten. Inhalte der Institute sehen Sie nicht.
overview-role-product_admin = Sie betreuen die Administratorinnen und Administratoren der Institute.
overview-role-tenant_admin = Sie verwalten die Benutzer Ihres Instituts und sehen sein Änderungsprotokoll.
overview-role-editor = Sie pflegen Kontakte, Verteiler, Vorlagen und Kampagnen Ihres Instituts.
overview-role-viewer = Sie sehen Berichte und Inhalte Ihres Instituts, ohne sie zu ändern.

## Roles and states

role-operator = Betrieb
role-product_admin = Produktadministration
role-tenant_admin = Institutsadministration
role-editor = Redaktion
role-viewer = Lesezugriff
status-active = aktiv
status-disabled = gesperrt
tenant-status-active = aktiv
tenant-status-suspended = ausgesetzt
outcome-success = erfolgreich
outcome-denied = verweigert
outcome-failed = fehlgeschlagen

## Sign-in

sign-in-title = Anmelden
sign-in-button = Anmelden
sign-in-sso = Mit Unternehmenskonto anmelden
sign-in-sso-explanation = Über die zentrale Benutzerverwaltung Ihrer Institutsgruppe, im Firmennetz ohne erneute Kennworteingabe.
sign-in-sso-failed = Die Anmeldung mit Ihrem Unternehmenskonto ist nicht gelungen. Bitte versuchen Sie es noch einmal.
sign-in-sso-unknown = Ihr Unternehmenskonto ist für EMMA nicht freigeschaltet. Bitte wenden Sie sich an die EMMA-Verantwortlichen Ihres Instituts.
sign-in-sso-inactive = Ihr Zugang ist gesperrt, oder der Zugang Ihres Instituts ist zurzeit ausgesetzt.
sign-in-sso-cancelled = Die Anmeldung wurde bei der zentralen Benutzerverwaltung abgebrochen.
sign-in-sso-unavailable = Die zentrale Benutzerverwaltung ist gerade nicht erreichbar. Bitte versuchen Sie es später noch einmal oder melden Sie sich mit Kennwort an.
sign-in-sso-not-configured = Die Anmeldung mit Unternehmenskonto ist für diese Installation nicht eingerichtet.
sign-in-or-password = oder mit E-Mail-Adresse und Kennwort:
sign-in-invalid = E-Mail-Adresse oder Kennwort ist nicht richtig.
sign-in-throttled = Zu viele fehlgeschlagene Versuche. Bitte versuchen Sie es in { $seconds } Sekunden noch einmal.
sign-in-second-factor = Bitte geben Sie Ihr Kennwort noch einmal und dazu den Code aus Ihrer Authenticator-App ein.
sign-in-second-factor-invalid = Der Code aus der Authenticator-App ist nicht richtig. Bitte geben Sie Kennwort und einen neuen Code ein.
sign-in-tenant-suspended = Der Zugang Ihres Instituts ist zurzeit ausgesetzt.
sign-in-expired = Die Anmeldeseite war zu lange geöffnet. Bitte melden Sie sich noch einmal an.

## Form fields

field-email = E-Mail-Adresse
field-password = Kennwort
field-totp-code = Code aus der Authenticator-App
field-totp-code-hint = Nur nötig, wenn Sie einen zweiten Faktor eingerichtet haben.
field-name = Name
field-role = Rolle
field-status = Status
field-tenant = Mandant
field-tenant-name = Name des Instituts
field-tenant-id = Kennung
field-created-at = Angelegt am
field-current-password = Aktuelles Kennwort
field-new-password = Neues Kennwort
field-code = Code

## Problems with input

form-error = Bitte prüfen Sie das Feld „{ $field }“: { $problem }
problem-required = Bitte füllen Sie dieses Feld aus.
problem-too-long = Höchstens { $max } Zeichen sind erlaubt.
problem-control-characters = Steuerzeichen sind nicht erlaubt.
problem-email-invalid = Das ist keine gültige E-Mail-Adresse (Beispiel: name@sparkasse-musterstadt.de).
problem-email-taken = Für diese E-Mail-Adresse gibt es schon ein Konto.
problem-role-not-grantable = Diese Rolle dürfen Sie nicht vergeben.
problem-password-wrong = Das aktuelle Kennwort ist nicht richtig.
problem-password-too-short = Das Kennwort braucht mindestens { $min } Zeichen.
problem-password-too-long = Das Kennwort darf höchstens { $max } Zeichen haben.
problem-password-too-common = Dieses Kennwort ist zu verbreitet oder zu leicht zu erraten.
problem-password-personal = Das Kennwort darf Ihre E-Mail-Adresse nicht enthalten.
problem-code-invalid = Der Code ist nicht richtig. Bitte geben Sie den aktuellen Code ein.
problem-nothing-to-confirm = Richten Sie den zweiten Faktor bitte zuerst ein.
problem-form-unreadable = Das Formular kam nicht lesbar an. Bitte laden Sie die Seite neu.

## User administration

users-intro = Benutzer von { $tenant }, die Sie verwalten dürfen.
users-table-caption = Benutzer
users-none = Noch keine Benutzer.
users-choose-tenant = Anzeigen
users-new-heading = Neuen Benutzer anlegen
users-create-button = Benutzer anlegen
users-created = { $name } ist angelegt.
users-invited = Die Einladung ist verschickt: Mit dem Link in der E-Mail legt die Person ihr Kennwort selbst fest.
users-one-time-password = Einmalkennwort (wird nur jetzt angezeigt):
users-one-time-password-hint = Geben Sie das Einmalkennwort auf sicherem Weg weiter. Bei der ersten Anmeldung muss es durch ein eigenes Kennwort ersetzt werden.

## Tenants

tenants-table-caption = Mandanten
tenants-none = Noch keine Mandanten.
tenants-new-heading = Neuen Mandanten anlegen
tenants-name-hint = Zum Beispiel „Sparkasse Musterstadt“, höchstens 120 Zeichen.
tenants-create-button = Mandant anlegen
tenants-created = Der Mandant { $name } ist angelegt (Kennung { $id }).

## Audit log

audit-intro-tenant = Die letzten 100 Einträge Ihres Instituts, die neuesten zuerst. E-Mail- und IP-Adressen stehen nur als Prüfwert im Protokoll.
audit-intro-platform = Die letzten 100 Einträge der Plattform, die neuesten zuerst.
audit-filter-action = Aktion beginnt mit (z. B. user.)
audit-filter-all = Alle
audit-filter-submit = Filtern
audit-csv = Als CSV herunterladen
audit-table-caption = Änderungsprotokoll
audit-time = Zeitpunkt
audit-action = Aktion
audit-object = Objekt
audit-outcome = Ergebnis
audit-actor = Wer
audit-ip = Herkunft (IP-Netz)
audit-ip-hash = Prüfwert der IP-Adresse
audit-filter-ip = Von IP-Adresse
audit-filter-ip-hint = Das Protokoll speichert nur das Netz und einen Prüfwert der Adresse; eine bekannte Adresse findet es trotzdem.
audit-filter-ip-invalid = Das ist keine IPv4- oder IPv6-Adresse; der Filter wurde nicht angewendet.
audit-none = Noch keine Einträge.
datetime = { $date }, { $time } Uhr

## Account

account-signed-in-as = Angemeldet als { $email }.
account-must-change-password = Sie sind mit einem Einmalkennwort angemeldet. Bitte legen Sie jetzt Ihr eigenes Kennwort fest.
account-password-heading = Kennwort ändern
account-password-hint = Mindestens { $min } Zeichen; eine Passphrase aus mehreren Wörtern ist gut zu merken und schwer zu erraten.
account-password-button = Kennwort ändern
account-password-changed = Ihr Kennwort ist geändert.
account-totp-heading = Zweiter Faktor (Authenticator-App)
account-totp-active = Der zweite Faktor ist eingerichtet: Bei der Anmeldung fragt EMMA nach einem Code.
account-totp-inactive = Der zweite Faktor ist nicht eingerichtet.
account-totp-setup-button = Zweiten Faktor einrichten
account-totp-renew-button = Neue Authenticator-App einrichten
account-totp-scan = Scannen Sie den QR-Code mit Ihrer Authenticator-App und geben Sie dann den angezeigten Code ein.
account-totp-qr-alt = QR-Code für die Authenticator-App
account-totp-secret = Oder geben Sie diesen Schlüssel von Hand ein:
account-totp-confirm-button = Code bestätigen
account-totp-confirmed = Der zweite Faktor ist eingerichtet. Ab jetzt fragt EMMA bei der Anmeldung nach einem Code.

## Error pages

error-to-overview = Zur Übersicht
error-to-sign-in = Zur Anmeldung
error-title-400 = Ungültige Anfrage
error-message-400 = Die Anfrage konnte nicht verarbeitet werden.
error-title-401 = Anmeldung erforderlich
error-message-401 = Bitte melden Sie sich an, um diese Seite zu sehen.
error-title-403 = Keine Berechtigung
error-message-403 = Sie dürfen diese Seite nicht sehen oder diese Aktion nicht ausführen.
error-title-404 = Nicht gefunden
error-message-404 = Diese Seite gibt es nicht.
error-title-405 = Nicht möglich
error-message-405 = Diese Aktion ist hier nicht möglich.
error-title-413 = Zu groß
error-message-413 = Die gesendeten Daten sind zu groß.
error-title-415 = Falsches Format
error-message-415 = Das Formular kam in einem Format an, das EMMA nicht versteht.
error-title-429 = Zu viele Anfragen
error-message-429 = Bitte warten Sie einen Moment und versuchen Sie es dann noch einmal.
error-title-500 = Interner Fehler
error-message-500 = Etwas ist schiefgegangen. Bitte versuchen Sie es später noch einmal.
error-title-503 = Vorübergehend nicht verfügbar
error-message-503 = EMMA ist gerade ausgelastet. Bitte versuchen Sie es gleich noch einmal.
error-title-other = Fehler
error-message-other = Die Anfrage ist fehlgeschlagen.

## Forgotten password

sign-in-forgot = Kennwort vergessen?
forgot-title = Kennwort vergessen
forgot-intro = Geben Sie die E-Mail-Adresse Ihres Kontos ein. Wir schicken Ihnen einen Link, mit dem Sie ein neues Kennwort festlegen. Er gilt 30 Minuten.
forgot-button = Link anfordern
forgot-sent = Wenn die Adresse ein Konto hat, ist ein Link unterwegs. Bitte sehen Sie in Ihr Postfach.
reset-title = Neues Kennwort festlegen
reset-button = Kennwort festlegen
reset-done = Ihr neues Kennwort ist festgelegt. Sie können sich jetzt damit anmelden.
reset-to-sign-in = Zur Anmeldung
reset-new-link = Neuen Link anfordern
reset-link-invalid = Dieser Link ist ungültig oder abgelaufen. Bitte fordern Sie einen neuen an.
reset-expired-form = Die Seite war zu lange geöffnet. Bitte geben Sie das neue Kennwort noch einmal ein.

## Changing and deleting users

users-actions = Aktionen
users-yourself = Ihr eigenes Konto
users-role-of = Rolle von { $name }
users-change-role = Rolle ändern
users-disable = Deaktivieren
users-enable = Aktivieren
users-delete = Löschen
users-delete-confirm = { $name } wirklich löschen? Das lässt sich nicht rückgängig machen.
users-not-yourself = Ihr eigenes Konto können Sie hier nicht ändern oder löschen.
users-role-changed = { $name } hat jetzt die Rolle { $role }.
users-disabled = { $name } ist deaktiviert und kann sich nicht mehr anmelden.
users-enabled = { $name } ist wieder aktiv.
users-deleted = { $name } ist gelöscht.

## One tenant

tenant-back = Zurück zu den Mandanten
tenant-none-set = nicht festgelegt
tenant-yes = ja
tenant-no = nein
tenant-settings-heading = Mandant bearbeiten
tenant-status-hint = Ein ausgesetzter Mandant kann sich nicht anmelden und nichts versenden.
tenant-sender-domains-hint = Eine Domain pro Zeile, z. B. sparkasse-musterstadt.de.
tenant-save-button = Speichern
tenant-saved = Die Änderungen sind gespeichert.
tracking-off = Aus (keine Öffnungen und Klicks)
tracking-aggregate = Zusammengefasst (ohne Personenbezug)
tracking-per_person = Je Empfänger
field-sender-domains = Absender-Domains
field-default-from-name = Absendername
field-tracking = Erfolgsmessung
field-audit-retention-days = Aufbewahrung des Änderungsprotokolls (Tage)
field-unconfirmed-retention-days = Aufbewahrung unbestätigter Kontakte (Tage)
field-require-second-factor = Zweiter Faktor für alle Benutzer verpflichtend
field-settings = Einstellungen
problem-choose-option = Bitte wählen Sie einen der angebotenen Werte.
problem-days-range = Bitte geben Sie eine ganze Zahl von 1 bis { $max } ein.
problem-domain-invalid = „{ $domain }“ ist kein gültiger Domainname.
problem-from-name = Höchstens { $max } Zeichen, ohne Steuerzeichen.
problem-settings-invalid = Die Einstellungen sind nicht gültig.

## Development identity provider (local mode only)

dev-idp-title = Entwicklungs-Identitätsanbieter
dev-idp-notice = Nur für die lokale Entwicklung: Dieser Anbieter steht für die zentrale Benutzerverwaltung und bestätigt jede Person, die Sie hier eintragen. Auf AWS gibt es ihn nicht.
dev-idp-tenant-hint = Optional. Für die erste Anmeldung von Personen, die EMMA noch nicht kennt: die Mandanten-ID.
dev-idp-role-hint = Optional. Die Rolle bei der ersten Anmeldung: editor, viewer oder tenant_admin.
dev-idp-continue = Bestätigen und zurück zu EMMA
dev-idp-invalid = Die Anmeldeanfrage ist ungültig: { $reason }

## Contacts

nav-contacts = Kontakte
nav-contacts-description = Empfänger suchen, anlegen und pflegen.
contacts-search-label = Kontakte suchen
contacts-search = Suche
contacts-search-hint = Der Anfang des Nachnamens („müll“ findet Müller und Muller) oder eine vollständige E-Mail-Adresse.
contacts-sort = Sortierung
contacts-sort-ascending = Name A–Z
contacts-sort-descending = Name Z–A
contacts-search-button = Anzeigen
contacts-search-reset = Alle Kontakte zeigen
contacts-table-caption = Kontakte nach Namen
contacts-table-caption-search = Kontakte zur Suche „{ $search }“
contacts-none = Noch keine Kontakte.
contacts-none-found = Keine Kontakte gefunden.
contacts-paging = Seiten der Kontaktliste
contacts-first-page = Zum Anfang
contacts-next-page = Weiter
contacts-new-heading = Kontakt anlegen
contacts-create-button = Kontakt anlegen
contacts-status-hint = „angemeldet“ nur, wenn die dokumentierte Einwilligung der Person vorliegt (etwa aus einem Double-Opt-in). Ein unbestätigter Kontakt bekommt keine Mailings.
contacts-problem-email-taken = Einen Kontakt mit dieser E-Mail-Adresse gibt es schon.
contacts-to-existing = Zum vorhandenen Kontakt
contacts-problem-confirm-delete = Bitte bestätigen Sie das Löschen mit dem Häkchen.
contacts-changed-meanwhile = Der Kontakt wurde inzwischen geändert. Oben steht der aktuelle Stand; bitte prüfen Sie Ihre Eingaben und speichern Sie noch einmal.
contacts-notice-created = Der Kontakt ist angelegt.
contacts-notice-saved = Die Änderungen sind gespeichert.
contacts-notice-unsubscribed = Der Kontakt ist vom Newsletter abgemeldet und bekommt keine Mailings mehr.
contacts-notice-deleted = Der Kontakt ist gelöscht.
contact-title = Kontakt
contact-back = Zurück zu den Kontakten
contact-none-given = nicht angegeben
contact-field-salutation = Anrede
contact-field-first-name = Vorname
contact-field-last-name = Nachname
contact-field-language = Sprache
contact-field-updated-at = Geändert am
contact-salutation-none = keine Angabe
contact-salutation-female = Frau
contact-salutation-male = Herr
contact-salutation-diverse = Divers
contact-language-de = Deutsch
contact-language-en = Englisch
contact-status-unconfirmed = unbestätigt
contact-status-subscribed = angemeldet
contact-status-unsubscribed = abgemeldet
contact-status-bounced = unzustellbar
contact-status-complained = Beschwerde
contact-status-final-hint = Dieser Kontakt bekommt keine Mailings mehr. Wieder angemeldet werden kann er nur mit einer neuen Einwilligung der Person (Double-Opt-in).
contact-edit-heading = Kontakt bearbeiten
contact-edit-hint = Die E-Mail-Adresse lässt sich nicht ändern: Eine andere Adresse ist ein anderer Kontakt.
contact-save-button = Speichern
contact-unsubscribe-heading = Vom Newsletter abmelden
contact-unsubscribe-hint = Etwa wenn die Person am Telefon oder am Schalter darum bittet. Danach bekommt sie keine Mailings mehr; wieder anmelden kann sie nur eine neue Einwilligung.
contact-unsubscribe-button = Vom Newsletter abmelden
contact-delete-heading = Kontakt löschen
contact-delete-hint = Der Kontakt wird mit allen Angaben entfernt; das lässt sich nicht rückgängig machen. Wer nur keine Mailings mehr bekommen soll, wird besser abgemeldet: Ein gelöschter Kontakt kann durch einen Import wieder angelegt werden.
contact-delete-confirm = Ja, löschen
contact-delete-button = Kontakt löschen

## Unsubscribe

unsubscribe-title = Vom Newsletter abmelden
unsubscribe-intro = Hier bestimmen Sie, welche Mailings an { $address } gehen.
unsubscribe-lists-legend = Diese Verteiler verlassen
unsubscribe-lists-button = Ausgewählte Verteiler verlassen
unsubscribe-no-lists = Diese Adresse steht in keinem Verteiler.
unsubscribe-all-hint = Danach bekommt diese Adresse keine Mailings mehr von uns. Wieder anmelden können Sie sich nur mit einer neuen Einwilligung.
unsubscribe-all-button = Von allen Mailings abmelden
unsubscribe-left-all = Sie sind abgemeldet und bekommen keine Mailings mehr von uns.
unsubscribe-left-lists = { $count ->
    [0] Sie standen in keinem der gewählten Verteiler mehr; es hat sich nichts geändert.
    [one] Sie haben einen Verteiler verlassen. Ihre anderen Mailings bekommen Sie weiter.
   *[other] Sie haben { $count } Verteiler verlassen. Ihre anderen Mailings bekommen Sie weiter.
}
unsubscribe-back = Zurück zu Ihren Verteilern
unsubscribe-nothing-to-do = Für diese Adresse gibt es nichts mehr zu tun: Sie bekommt keine Mailings mehr von uns.
unsubscribe-nothing-to-do-for = Für { $address } gibt es nichts mehr zu tun: Diese Adresse bekommt keine Mailings mehr von uns.
unsubscribe-choose-list = Bitte wählen Sie mindestens einen Verteiler aus.
unsubscribe-form-expired = Das Formular kam nicht von dieser Seite. Bitte wählen Sie hier noch einmal.
unsubscribe-invalid = Dieser Abmeldelink ist nicht gültig. Bitte verwenden Sie den Link aus der E-Mail unverändert.
unsubscribe-one-click-done = Sie sind abgemeldet.

# --- imports and exports (UI) ---

nav-imports = Importe
nav-imports-description = Kontakte aus CSV-Dateien (Excel) einlesen.
nav-exports = Exporte
nav-exports-description = Kontakte als CSV-Datei für Excel ausgeben.
imports-new-heading = Neuer Import
imports-new-hint = Eine CSV-Datei, wie Excel sie speichert („CSV (Trennzeichen-getrennt)“ oder „CSV UTF-8“), mit einer Kopfzeile; höchstens { $max } MB. Nach dem Hochladen ordnen Sie die Spalten zu.
imports-needs-javascript = Das Hochladen braucht JavaScript. Bitte schalten Sie JavaScript für EMMA ein.
imports-file = CSV-Datei
imports-upload-progress = Hochgeladen
imports-upload-button = Hochladen und weiter
imports-uploading = { $percent } % hochgeladen
imports-problem-size = Die Datei ist zu groß: Ein Import nimmt höchstens { $max } MB. Bitte teilen Sie die Datei auf.
imports-problem-empty-file = Die Datei ist leer.
imports-problem-file-name = Der Dateiname ist nicht zulässig (höchstens 100 Zeichen, keine Steuerzeichen).
imports-problem-announce = Der Import konnte nicht angelegt werden. Bitte versuchen Sie es gleich noch einmal.
imports-problem-upload = Das Hochladen ist fehlgeschlagen. Bitte versuchen Sie es noch einmal.
imports-table-caption = Die Importe dieses Instituts, die neuesten zuerst
imports-field-file = Datei
imports-field-size = Größe
imports-field-report = Bericht
imports-to-mapping = Spalten zuordnen
imports-none = Noch keine Importe.
imports-paging = Seiten der Importe
imports-first-page = Erste Seite
imports-next-page = Weitere Importe
import-title = Import
import-mapping-title = Spalten zuordnen
import-back-to-list = Zurück zu den Importen
import-heading = Import „{ $file }“
import-size-bytes = { $size } Byte
import-rows = Zeilen
import-added = Neu angelegt
import-updated = Aktualisiert
import-skipped = Übersprungen
import-state-awaiting-upload = wartet auf Zuordnung
import-state-queued = wartet auf den Start
import-state-running = läuft
import-state-finished = abgeschlossen
import-state-failed = fehlgeschlagen
import-separator-semicolon = Semikolon
import-separator-comma = Komma
import-separator-tab = Tabulator
import-mapping-intro = Die Datei ist als { $encoding } mit dem Trennzeichen { $separator } gelesen.
import-mapping-heading = Spalten zuordnen
import-mapping-hint = Wählen Sie über jeder Spalte, was sie enthält. Eine Spalte mit der E-Mail-Adresse ist nötig; Spalten mit „nicht importieren“ bleiben außen vor.
import-preview-caption = Vorschau: die ersten { $rows } Zeilen der Datei
import-preview-empty = Die Datei hat nur die Kopfzeile.
import-column-label = Spalte { $column } („{ $heading }“) importieren als
import-target-ignore = nicht importieren
import-target-email = E-Mail-Adresse
import-target-salutation = Anrede
import-target-first-name = Vorname
import-target-last-name = Nachname
import-target-language = Sprache
import-mode = Was soll der Import tun?
import-mode-hint = Abgemeldete, unzustellbare und gesperrte Adressen werden nie wieder angemeldet; sie stehen im Bericht.
import-mode-add-or-update = Neue Kontakte anlegen und vorhandene aktualisieren
import-mode-add = Nur neue Kontakte anlegen
import-mode-update = Nur vorhandene Kontakte aktualisieren
import-list = In diesen Verteiler aufnehmen
import-list-none = in keinen Verteiler
import-new-status = Status neuer Kontakte
import-status-unconfirmed = unbestätigt (noch keine Einwilligung belegt)
import-status-subscribed = angemeldet
import-consent-hint = „Angemeldet“ nur, wenn für jeden importierten Kontakt eine dokumentierte Einwilligung vorliegt (UWG § 7, DSGVO Art. 7).
import-consent = Die Einwilligungen der importierten Kontakte liegen vor
import-start-button = Import starten
import-notice-started = Der Import ist gestartet. Sie können diese Seite verlassen; er läuft weiter.
import-progress-heading = Fortschritt
import-progress-text = { $rows } Zeilen gelesen ({ $percent } % der Datei)
import-progress-hint = Die Zahlen werden laufend aktualisiert.
import-summary-heading = Ergebnis
import-report-hint = Der Bericht nennt jede übersprungene Zeile mit ihrer Zeilennummer und dem Grund (ungültige Adresse, doppelt in der Datei, leer, abgemeldet oder gesperrt, …).
import-report-heading = Bericht des Imports
import-report-download = Bericht herunterladen
import-failed = Der Import ist fehlgeschlagen. Bereits gespeicherte Kontakte sind unverändert.
import-failed-hint = Bitte prüfen Sie die Datei und starten Sie einen neuen Import.
import-waiting-for-upload = Die Datei ist noch nicht vollständig hochgeladen. Bitte laden Sie sie unter „Neuer Import“ noch einmal hoch.
import-waiting-for-mapping = Die Spalten dieses Imports sind noch nicht zugeordnet.
import-unreadable-hint = Bitte speichern Sie die Datei in Excel als „CSV (Trennzeichen-getrennt)“ und laden Sie sie erneut hoch.
import-problem-empty = Die Datei ist leer.
import-problem-not-csv = Die Datei ist keine CSV-Datei (ihre erste Zeile ist länger als 64 KB).
import-problem-alert = Bitte prüfen Sie die markierten Angaben.
import-problem-no-email = Bitte ordnen Sie einer Spalte die E-Mail-Adresse zu.
import-problem-target-twice = „{ $target }“ ist schon Spalte { $column } zugeordnet.
import-problem-consent = Bitte bestätigen Sie, dass die Einwilligungen vorliegen – oder importieren Sie die Kontakte als unbestätigt.
import-problem-no-such-list = Diesen Verteiler gibt es nicht mehr.
import-problem-mapping = Die Zuordnung passt nicht zur Datei. Bitte prüfen Sie die Spalten.
download-link-hint = Der Download beginnt gleich. Falls nicht, nutzen Sie den Link; er gilt 5 Minuten.
exports-new-heading = Neuer Export
exports-new-hint = Kontakte als CSV-Datei für Excel (UTF-8, Semikolon): alle, die eines Verteilers oder die eines Segments. Der Export läuft im Hintergrund; die Datei erscheint unten in der Liste.
exports-fields = Felder
exports-request-button = Export anfordern
exports-problem-no-field = Bitte wählen Sie mindestens ein Feld.
exports-notice-requested = Der Export ist angefordert. Er erscheint unten, sobald die Datei fertig ist.
exports-table-caption = Die Exporte der letzten 24 Stunden, die neuesten zuerst
exports-rows = Kontakte
exports-file = Datei
exports-none = Keine Exporte in den letzten 24 Stunden.
exports-download = Herunterladen
exports-download-heading = Export herunterladen
exports-back = Zurück zu den Exporten
exports-expiry-hint = Exporte enthalten personenbezogene Daten: Sie werden nach 24 Stunden gelöscht.
export-state-queued = wird erstellt
export-state-finished = fertig
export-state-failed = fehlgeschlagen
export-field-email = E-Mail-Adresse
export-field-salutation = Anrede
export-field-first-name = Vorname
export-field-last-name = Nachname
export-field-language = Sprache
export-field-status = Status
export-field-created-at = Angelegt
export-field-updated-at = Geändert

# --- custom contact attributes (Felder) ---
nav-attributes = Felder
nav-attributes-description = Eigene Kontaktfelder wie Kundennummer oder Geburtstag festlegen.
attributes-intro = Eigene Felder ergänzen die Angaben jedes Kontakts. Name und Art eines Felds stehen fest, sobald es angelegt ist; die Bezeichnung lässt sich ändern.
attributes-table-caption = Felder des Instituts
attributes-actions = Aktionen
attributes-none = Noch keine eigenen Felder.
attributes-label-of = Neue Bezeichnung für „{ $name }“
attributes-relabel-button = Bezeichnung speichern
attributes-delete-confirm = Ja, Feld löschen
attributes-delete-button = Feld löschen
attributes-delete-hint = Ein gelöschtes Feld wird bei keinem Kontakt mehr angezeigt, exportiert oder geprüft; gespeicherte Werte entfallen bei der nächsten Änderung des Kontakts.
attributes-new-heading = Feld anlegen
attributes-create-button = Feld anlegen
attributes-name-hint = Kleinbuchstaben, Ziffern und „_“, mit einem Buchstaben vorn (etwa kundennummer). So heißt das Feld in der API, in CSV-Dateien und in Vorlagen.
attributes-kind-hint = Text, Zahl, Datum oder Ja/Nein. Die Art lässt sich später nicht ändern.
attributes-full = Das Institut hat bereits { $max } Felder, mehr sind nicht möglich.
attributes-problem-name = Bitte nur Kleinbuchstaben, Ziffern und „_“ verwenden, mit einem Buchstaben vorn, höchstens 40 Zeichen; Namen der Standardfelder (etwa email) sind vergeben.
attributes-problem-name-taken = Ein Feld mit diesem Namen gibt es schon.
attributes-problem-too-many = Mehr als { $max } Felder sind nicht möglich.
attributes-problem-confirm-delete = Bitte bestätigen Sie das Löschen mit dem Häkchen.
attributes-notice-created = Das Feld ist angelegt.
attributes-notice-saved = Die Bezeichnung ist gespeichert.
attributes-notice-deleted = Das Feld ist gelöscht.
attribute-field-label = Bezeichnung
attribute-field-name = Name
attribute-field-kind = Art
attribute-kind-text = Text
attribute-kind-number = Zahl
attribute-kind-date = Datum
attribute-kind-boolean = Ja/Nein
attribute-value-none = keine Angabe
attribute-boolean-yes = ja
attribute-boolean-no = nein
attribute-number-hint = Etwa 1.234,56 (Komma oder Punkt als Dezimalzeichen).
attribute-problem-text = Höchstens 500 Zeichen, ohne Steuerzeichen.
attribute-problem-number = Bitte eine Zahl eingeben, etwa 1.234,56.
attribute-problem-date = Bitte ein Datum eingeben, etwa 31.12.2024.
attribute-problem-boolean = Bitte ja oder nein wählen.

# --- preferences, suppression list, Art. 15 (gdpr helper) ---
preferences-heading = Ihre Einstellungen
preferences-hint = In welcher Sprache wir Ihnen schreiben. Änderungen gelten sofort für jedes weitere Mailing. Ihren Namen oder Ihre Anrede ändert das Institut auf Ihre Bitte.
preferences-language = Sprache der Mailings
preferences-button = Einstellungen speichern
preferences-saved = Ihre Einstellungen sind gespeichert.
preferences-invalid = Bitte prüfen Sie Ihre Angaben: Namen höchstens 100 Zeichen, ohne Steuerzeichen.
nav-suppressions = Sperrliste
nav-suppressions-description = Adressen, die nie angeschrieben werden
suppressions-title = Sperrliste
suppressions-intro = An diese Adressen geht kein Mailing: Abmeldungen, Unzustellbare (Bounce), Beschwerden, gelöschte Personen (nur Hashwert) und von Hand eingetragene Adressen.
suppressions-table-caption = Einträge der Sperrliste
suppressions-reason = Grund
suppressions-added-at = Eingetragen am
suppressions-actions = Aktion
suppressions-erased-address = gelöscht (nur Hashwert)
suppressions-none = Die Sperrliste ist leer.
suppressions-paging = Seiten der Sperrliste
suppressions-remove = Entfernen
suppressions-reason-unsubscribed = Abgemeldet
suppressions-reason-bounced = Unzustellbar (Bounce)
suppressions-reason-complained = Beschwerde
suppressions-reason-erased = Gelöscht (Art. 17)
suppressions-reason-manual = Von Hand eingetragen
suppressions-notice-added = Die Adresse steht auf der Sperrliste.
suppressions-notice-removed = Der Eintrag ist entfernt.
suppressions-download = Sperrliste als CSV herunterladen
suppressions-add-heading = Adresse sperren
suppressions-add-button = Auf die Sperrliste setzen
suppressions-import-heading = Viele Adressen sperren
suppressions-import-label = Adressen
suppressions-import-hint = Eine Adresse je Zeile, oder eine CSV-Datei mit einer Spalte „E-Mail“ hier hineinkopiert. Zeilen mit Fehlern werden übersprungen und genannt. Größere Dateien (bis 10 MB) über die Schnittstelle hochladen.
suppressions-import-button = Adressen sperren
suppressions-report-heading = Ergebnis
suppressions-report-summary = { $rows } Zeilen gelesen: { $added } neu gesperrt, { $already } standen schon auf der Liste, { $skipped } übersprungen.
suppressions-report-problems = Übersprungene Zeilen
suppressions-report-line = Zeile
suppressions-report-reason = Grund
suppressions-report-truncated = Weitere Zeilen wurden übersprungen; hier stehen die ersten 1.000.
contact-data-title = Datenauskunft (Art. 15)
contact-data-heading = Datenauskunft für { $address }
contact-data-intro = Alles, was { $institute } in EMMA über diese Person speichert, Stand { $date }.
contact-data-back = Zurück zum Kontakt
contact-data-download = Als JSON herunterladen
contact-data-id = Kennung
contact-data-contact-heading = Kontaktdaten
contact-data-attributes-heading = Weitere Felder
contact-data-lists-heading = Verteiler
contact-data-suppression-heading = Sperrliste
contact-data-suppressed = Auf der Sperrliste: { $reason }, seit { $date }.
contact-data-not-suppressed = Nicht auf der Sperrliste.
contact-data-consent-heading = Einwilligungsnachweise
contact-data-no-consent = Keine Einwilligungsnachweise gespeichert.
contact-data-events-heading = Zustellereignisse
contact-data-events-caption = Vom Versanddienst gemeldete Ereignisse
contact-data-event-kind = Ereignis
contact-data-event-at = Zeitpunkt
contact-data-event-message = Nachricht
contact-data-audit-heading = Änderungsprotokoll
contact-data-none = Keine.
contact-data-link = Datenauskunft (Art. 15)

# --- double opt-in: sign-up forms and consent evidence ---
nav-signup-forms = Anmeldeformulare
nav-signup-forms-description = Formulare für die Newsletter-Anmeldung mit Double-Opt-in
signup-title = Newsletter-Anmeldung
signup-submit = Anmelden
signup-honeypot-label = Bitte lassen Sie dieses Feld leer
signup-sent = Vielen Dank! Bitte bestätigen Sie Ihre Anmeldung mit dem Link in der E-Mail, die wir Ihnen geschickt haben.
signup-problem-public = Bitte prüfen Sie Ihre Angabe.
signup-throttled = Von Ihrem Anschluss kamen gerade sehr viele Anmeldungen. Bitte versuchen Sie es später noch einmal.
signup-link-invalid = Dieser Bestätigungslink ist nicht gültig: Er wurde verändert, ist abgelaufen oder kann nicht mehr verwendet werden. Bitte melden Sie sich noch einmal an.
signup-confirm-intro = Bitte bestätigen Sie mit dem Knopf, dass Sie den Newsletter erhalten möchten.
signup-confirm-button = Anmeldung bestätigen
signup-confirmed = Vielen Dank! Ihre Anmeldung ist bestätigt.
signup-already-confirmed = Ihre Anmeldung war bereits bestätigt. Es hat sich nichts geändert.
signup-forms-title = Anmeldeformulare
signup-forms-intro = Über ein Anmeldeformular melden sich Interessierte selbst für einen Verteiler an. Sie bekommen eine Bestätigungsmail (Double-Opt-in); erst nach der Bestätigung werden sie angeschrieben. Jeder Schritt wird als Einwilligungsnachweis gespeichert.
signup-forms-none = Es gibt noch kein Anmeldeformular.
signup-new-heading = Neues Anmeldeformular
signup-new-hint = Betreff und Text der Bestätigungsmail, Dankestext und Fristen können Sie danach auf der Seite des Formulars anpassen.
signup-create-button = Formular anlegen
signup-needs-list = Legen Sie zuerst einen Verteiler an: Jedes Formular meldet für einen Verteiler an.
signup-form-title = Anmeldeformular
signup-back = Zurück zu den Anmeldeformularen
signup-public-link = Öffentliche Adresse
signup-consent-version = Version des Einwilligungstexts
signup-embed-heading = Formular in eine Website einbetten
signup-embed-hint = Kopieren Sie diesen HTML-Code in die Seite, auf der sich Interessierte anmelden sollen.
signup-edit-heading = Einstellungen
signup-asked-fields = Abgefragte Angaben (neben der E-Mail-Adresse)
signup-consent-hint = Ändern Sie den Text, bekommt er eine neue Version. Die Nachweise früherer Anmeldungen behalten den Text, dem damals zugestimmt wurde.
signup-mail-text-hint = An der Stelle von {"{"}link{"}"} steht in der E-Mail der Bestätigungslink.
signup-save-button = Speichern
signup-delete-heading = Formular löschen
signup-delete-hint = Bereits verschickte Bestätigungslinks funktionieren danach nicht mehr. Die Einwilligungsnachweise bleiben erhalten.
signup-delete-confirm = Ja, dieses Formular löschen
signup-delete-button = Formular löschen
signup-field-name = Name des Formulars
signup-field-list = Verteiler
signup-field-consent-text = Einwilligungstext
signup-field-from-name = Absendername der Bestätigungsmail
signup-field-mail-subject = Betreff der Bestätigungsmail
signup-field-mail-text = Text der Bestätigungsmail
signup-field-thank-you = Dankestext nach der Anmeldung
signup-field-link-hours = Gültigkeit des Bestätigungslinks (Stunden)
signup-field-expiry-days = Unbestätigte Anmeldungen löschen nach (Tagen)
signup-notice-created = Das Anmeldeformular ist angelegt.
signup-notice-saved = Die Einstellungen sind gespeichert.
signup-notice-deleted = Das Anmeldeformular ist gelöscht.
signup-list-gone = (Verteiler gelöscht)
signup-problem-name = Bitte geben Sie einen Namen mit höchstens 100 Zeichen an.
signup-problem-list-id = Bitte wählen Sie einen vorhandenen Verteiler.
signup-problem-consent-text = Bitte geben Sie einen Text mit höchstens 5.000 Zeichen an.
signup-problem-from-name = Höchstens 100 Zeichen, ohne Steuerzeichen.
signup-problem-mail-subject = Bitte geben Sie einen Betreff mit höchstens 200 Zeichen in einer Zeile an.
signup-problem-mail-text = Der Text muss {"{"}link{"}"} enthalten und darf höchstens 5.000 Zeichen lang sein.
signup-problem-thank-you-text = Bitte geben Sie einen Text mit höchstens 2.000 Zeichen an.
signup-problem-link-validity-hours = Bitte geben Sie eine ganze Zahl von 1 bis 168 an.
signup-problem-expiry-days = Bitte geben Sie eine ganze Zahl von 1 bis 365 an; die Frist darf nicht vor dem Bestätigungslink enden.
signup-problem-confirm-delete = Bitte bestätigen Sie das Löschen mit dem Häkchen.
consent-title = Einwilligungsnachweis
consent-back = Zurück zum Kontakt
consent-printed-at = Stand
consent-none = Für diesen Kontakt ist kein Einwilligungsnachweis gespeichert.
consent-kind-signup = Anmeldung über ein Formular
consent-kind-confirmation = Bestätigung über den Link der Bestätigungsmail
consent-at-utc = Zeitpunkt (UTC)
consent-ip = IP-Adresse
consent-user-agent = Browser (User-Agent)
consent-form = Formular
consent-page = Seite
consent-text-heading = Einwilligungstext, wie angezeigt
consent-mail-heading = Bestätigungsmail, wie versandt
consent-mail-facts = { $size } Bytes,
consent-print-hint = Drucken Sie diese Seite mit der Druckfunktion Ihres Browsers; Navigation und Knöpfe erscheinen dabei nicht.

# --- imports and exports (UI), continued ---

import-target-attribute = Feld „{ $label }“

# --- lists and segments ---
nav-lists = Verteiler
nav-lists-description = Listen anlegen, Mitglieder sehen und pflegen.
nav-segments = Segmente
nav-segments-description = Gespeicherte Filter mit Live-Anzahl.
lists-table-caption = Verteiler mit ihrer Mitgliederzahl
lists-field-name = Name
lists-members = Mitglieder
lists-none = Noch keine Verteiler.
lists-new-heading = Verteiler anlegen
lists-create-button = Verteiler anlegen
lists-back = Zu allen Verteilern
lists-member-count = { $count ->
    [one] Ein Mitglied
   *[other] { $count } Mitglieder
}
lists-add-member = Kontakt per E-Mail-Adresse hinzufügen
lists-add-member-button = Hinzufügen
lists-remove-member = Entfernen
lists-members-none = Dieser Verteiler hat noch keine Mitglieder.
lists-paging = Seiten der Mitgliederliste
lists-rename-heading = Verteiler umbenennen
lists-rename-button = Umbenennen
lists-delete-confirm = Ja, diesen Verteiler löschen (die Kontakte bleiben erhalten)
lists-delete = Verteiler löschen
lists-problem-confirm-delete = Bitte bestätigen Sie das Löschen mit dem Häkchen.
lists-problem-no-contact = Zu dieser E-Mail-Adresse gibt es keinen Kontakt. Legen Sie ihn zuerst unter „Kontakte“ an.
lists-notice-created = Der Verteiler ist angelegt.
lists-notice-renamed = Der Verteiler ist umbenannt.
lists-notice-deleted = Der Verteiler ist gelöscht.
lists-notice-added = Der Kontakt ist im Verteiler.
lists-notice-removed = Der Kontakt ist aus dem Verteiler entfernt.
segments-back = Zu allen Segmenten
segments-table-caption = Gespeicherte Segmente
segments-conditions = Bedingungen
segments-none = Noch keine Segmente.
segments-new-heading = Segment anlegen
segments-edit-heading = Bedingungen bearbeiten
segments-field-name = Name
segments-match = Kontakte, die …
segments-match-all = alle Bedingungen erfüllen
segments-match-any = mindestens eine Bedingung erfüllen
segments-condition = Bedingung { $number }
segments-condition-choose = – Bedingung wählen –
segments-condition-value = Wert
segments-value-hint = Datum als 31.12.2024, Zahlen mit Komma, Tage als ganze Zahl; bei Status, Sprache und Verteiler bleibt das Feld leer.
segments-condition-remove = Entfernen
segments-condition-add = Bedingung hinzufügen
segments-count-button = Anzahl berechnen
segments-count = { $count } passende Kontakte
segments-save = Segment speichern
segments-members-heading = Passende Kontakte
segments-members-none = Kein Kontakt erfüllt die Bedingungen.
segments-paging = Seiten der passenden Kontakte
segments-delete-confirm = Ja, dieses Segment löschen (die Kontakte bleiben erhalten)
segments-delete = Segment löschen
segments-problem = Bitte prüfen Sie „{ $field }“: { $problem }
segments-notice-created = Das Segment ist gespeichert.
segments-notice-saved = Die Änderungen sind gespeichert.
segments-notice-deleted = Das Segment ist gelöscht.
segments-op-status-is = Status ist „{ $value }“
segments-op-status-is-not = Status ist nicht „{ $value }“
segments-op-language-is = Sprache ist { $value }
segments-op-language-is-not = Sprache ist nicht { $value }
segments-op-list-member = Mitglied im Verteiler „{ $value }“
segments-op-list-not-member = Nicht im Verteiler „{ $value }“
segments-op-created-before = Angelegt vor (Datum)
segments-op-created-after = Angelegt nach (Datum)
segments-op-created-within-last-days = Angelegt in den letzten … Tagen
segments-op-attribute-equals = { $attribute } ist gleich
segments-op-attribute-contains = { $attribute } enthält
segments-op-attribute-starts-with = { $attribute } beginnt mit
segments-op-attribute-eq = { $attribute } =
segments-op-attribute-lt = { $attribute } <
segments-op-attribute-le = { $attribute } ≤
segments-op-attribute-gt = { $attribute } >
segments-op-attribute-ge = { $attribute } ≥
segments-op-attribute-before = { $attribute } vor (Datum)
segments-op-attribute-after = { $attribute } nach (Datum)
segments-op-attribute-on = { $attribute } am (Datum)
segments-op-attribute-within-last-days = { $attribute } in den letzten … Tagen
segments-op-attribute-is-true = { $attribute } ist ja
segments-op-attribute-is-false = { $attribute } ist nein
segments-op-attribute-is-set = { $attribute } ist ausgefüllt
segments-op-attribute-is-empty = { $attribute } ist leer

# --- imports and exports (UI): export sources ---

exports-source = Kontakte
exports-source-all = alle Kontakte
exports-source-lists = Verteiler
exports-source-segments = Segmente
exports-source-gone = (gelöscht)
exports-problem-source = Diesen Verteiler oder dieses Segment gibt es nicht (mehr), oder sein Filter ist nicht gültig.
exports-attribute = Feld „{ $label }“
# --- contact page links ---
contact-consent-link = Einwilligungsnachweis
# --- segment and suppression review fixes ---
segments-changed-meanwhile = Das Segment wurde inzwischen von jemand anderem geändert. Ihre Eingaben stehen noch im Formular; gespeichert wurde nichts. Prüfen Sie den aktuellen Stand (Segment neu laden) oder speichern Sie noch einmal, um ihn zu überschreiben.
segments-table-count = Passende Kontakte
segments-count-not-kept = zählen
segments-count-not-kept-hint = Gezählt wird beim Öffnen eines Segments; eine Zählung gilt eine Minute.
suppressions-report-upgraded = { $upgraded } Adressen standen wegen Abmeldung oder Löschung auf der Liste und sind jetzt von Hand gesperrt.

# --- double opt-in: evidence without the live link ---
consent-mail-redacted = Aufbewahrt ist die E-Mail wie versandt, der Bestätigungslink darin ist durch „[Bestätigungslink entfernt]“ ersetzt. Die Prüfsummen belegen die tatsächlich versandte Nachricht und den Link.
consent-mail-sent-sha256 = SHA-256 der versandten Nachricht
consent-mail-sent-size = { $size } Bytes
consent-mail-link-sha256 = SHA-256 des Bestätigungslinks
# --- Art. 15 page: pending sign-ups ---
contact-data-pending-heading = Unbestätigte Anmeldungen
contact-data-no-pending = Keine Anmeldung wartet auf ihre Bestätigung.
# --- templates (Vorlagen) ---
nav-templates = Vorlagen
nav-templates-description = Newsletter in MJML oder HTML schreiben, prüfen und in der Vorschau sehen.
templates-table-caption = Die Vorlagen dieses Instituts
templates-field-name = Name
templates-field-kind = Format
templates-kind-mjml = MJML (responsiv)
templates-kind-html = HTML
templates-version = Version
templates-updated-at = Zuletzt gespeichert
templates-saved-at = Gespeichert
templates-none = Noch keine Vorlagen.
templates-new-heading = Neue Vorlage
templates-create-button = Vorlage anlegen
templates-back = Zurück zu den Vorlagen
templates-notice-created = Die Vorlage ist angelegt: Version 1 enthält einen Entwurf mit Abmeldelink.
templates-notice-saved = Die Vorlage ist als neue Version gespeichert; frühere Versionen bleiben unverändert.
templates-notice-deleted = Die Vorlage und alle ihre Versionen sind gelöscht.
templates-older-version = Sie sehen Version { $shown } (aktuell ist Version { $current }). Speichern legt sie als neue Version an.
templates-editor-heading = Inhalt
templates-field-subject = Betreff
templates-field-body = Inhalt (MJML oder HTML)
templates-fields-hint = Platzhalter: {"{{"} contact.greeting {"}}"}, {"{{"} contact.first_name | default("Kundin, Kunde") {"}}"}, {"{{"} contact.attributes.feldname {"}}"}, {"{{"} institute.name {"}}"}; der Abmeldelink {"{{"} unsubscribe_url {"}}"} ist Pflicht.
templates-field-text = Textfassung (optional)
templates-text-hint = Leer gelassen, wird sie aus dem HTML erzeugt.
templates-preview-as = Vorschau als Kontakt (E-Mail-Adresse)
templates-preview-as-hint = Leer gelassen: eine Beispielperson (Erika Mustermann).
templates-preview-contact-unknown = Unter dieser Adresse gibt es keinen Kontakt; die Vorschau zeigt die Beispielperson.
templates-preview-button = Vorschau aktualisieren
templates-check-button = Prüfen
templates-save = Als neue Version speichern
templates-preview-heading = Vorschau
templates-preview-subject = Betreff
templates-preview-width = Breite
templates-preview-desktop = Desktop
templates-preview-mobile = Mobil
templates-checks-heading = Prüfung
templates-check-error = Fehler
templates-check-warning = Hinweis
templates-checks-none = Keine Beanstandungen.
templates-checks-blocking = Solange Fehler bestehen, kann keine Kampagne mit dieser Vorlage geplant werden.
templates-versions-heading = Versionen
templates-delete-confirm = Ja, diese Vorlage mit allen Versionen löschen.
templates-delete = Vorlage löschen
templates-problem-syntax-at = Zeile { $line }, Spalte { $column }: { $message }
templates-problem-syntax = { $message }
templates-problem-invalid = { $reason }
templates-problem-conflict = Inzwischen wurde Version { $current } gespeichert. Bitte laden Sie die Vorlage neu; Ihre Änderungen sind noch nicht gespeichert.
templates-check-subject-empty = Der Betreff ist leer.
templates-check-subject-long = Der Betreff ist sehr lang; viele Programme kürzen ihn.
templates-check-unknown-field = Unbekannter Platzhalter „{ $subject }“ – er bliebe leer.
templates-check-unsubscribe-missing = Der Abmeldelink ({"{{"} unsubscribe_url {"}}"}) fehlt im HTML.
templates-check-text-derived = Die Textfassung wird aus dem HTML erzeugt; bitte prüfen Sie sie.
templates-check-text-empty = Die Textfassung ist leer.
templates-check-text-unsubscribe-missing = Der Abmeldelink fehlt in der Textfassung.
templates-check-html-too-large = Das HTML ist { $subject } groß; Gmail kürzt Nachrichten ab 100 KB.
templates-check-image-alt-missing = Ein Bild ohne Alternativtext: { $subject }
templates-check-image-not-https = Ein Bild wird nicht über https geladen: { $subject }
templates-check-script = Skripte sind in E-Mails nicht erlaubt.
templates-check-link-anchor = Ein Sprunglink innerhalb der Mail funktioniert nicht überall: { $subject }
templates-check-link-scheme = Ein Link ist weder http(s) noch mailto: { $subject }
