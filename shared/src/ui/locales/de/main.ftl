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
