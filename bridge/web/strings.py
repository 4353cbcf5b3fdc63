"""Every text of the members' page, in French and English, in one place (the later
gettext work extracts them from here). Pure."""

from __future__ import annotations

from collections.abc import Mapping

LANGS = ("fr", "en")

TEXTS: Mapping[str, Mapping[str, str]] = {
    "fr": {
        "title": "Rejoindre le parti sur Matrix",
        "intro": "Le parti a son propre serveur de discussion. Connectez-vous avec votre "
        "compte Discord : nous vérifions qui vous êtes et vous ouvrons les mêmes salons.",
        "login": "Se connecter avec Discord",
        "hello": "Bonjour {name} !",
        "discord_as": "Sur Discord, vous êtes {username}.",
        "your_rooms": "Les salons que vos rôles vous ouvrent",
        "members_only": "réservé aux membres",
        "no_rooms": "Aucun salon pour l'instant.",
        "no_member_role_one": "Un salon réservé aux membres n'est pas dans cette liste : "
        "votre compte Discord n'a pas (encore) le rôle de membre. Pour être vérifié, "
        "demandez à un modérateur sur le serveur Discord. Quand vous avez le rôle, un "
        "compte relié ici est invité dans ce salon tout seul.",
        "no_member_role": "{n} salons réservés aux membres ne sont pas dans cette "
        "liste : votre compte Discord n'a pas (encore) le rôle de membre. Pour être "
        "vérifié, demandez à un modérateur sur le serveur Discord. Quand vous avez le "
        "rôle, un compte relié ici est invité dans ces salons tout seul.",
        "sso_only_create": "Ce serveur crée les comptes sur sa propre page de connexion "
        "(SSO). Appuyez sur le bouton : créez votre compte ou connectez-vous là-bas, "
        "puis vous revenez ici, relié et dans les salons.",
        "sso_create": "Créer mon compte sur la page du serveur",
        "linked_to": "Votre compte Discord est relié à {mxid}.",
        "create_title": "Créer un compte sur le serveur du parti",
        "username": "Nom d'utilisateur",
        "password": "Mot de passe (10 caractères au moins)",
        "create": "Créer mon compte",
        "link_title": "J'ai déjà un compte Matrix",
        "link_hint": "Connectez-vous avec votre compte de ce serveur pour le relier.",
        "matrix_user": "Nom d'utilisateur Matrix",
        "matrix_password": "Mot de passe Matrix",
        "link": "Relier ce compte",
        "link_sso": "Me connecter au serveur pour relier mon compte",
        "unlink": "Délier mon compte Discord",
        "rejoin": "M'inviter à nouveau dans mes salons",
        "logout": "Se déconnecter de cette page",
        "done_title": "Vous êtes dans les salons",
        "next_steps": "Et maintenant ?",
        "step_app": "Installez l'application Element (ordinateur ou téléphone), ou ouvrez-la "
        "dans le navigateur :",
        "step_login": "Connectez-vous avec {mxid} et votre mot de passe.",
        "step_login_sso": "Connectez-vous avec {mxid} par la page de connexion du serveur "
        "(le même bouton qu'ici).",
        "step_phone": "Sur le téléphone, scannez ce code :",
        "open_element": "Ouvrir Element",
        "unlinked": "Votre compte Discord n'est plus relié.",
        "back": "Retour",
        "kept_after_login": "Le nom que vous aviez tapé vous attendra dans le formulaire "
        "après la connexion (le mot de passe, lui, est à retaper).",
        "error_title": "Quelque chose n'a pas marché",
        "err_expired": "La connexion a expiré ou ne vient pas de cette page. Rien n'a été "
        "changé : recommencez.",
        "err_denied": "Vous avez refusé l'accès sur Discord. Rien n'a été changé.",
        "err_not_in_guild": "Ce compte Discord n'est dans aucun des serveurs du parti. "
        "Rejoignez d'abord le serveur Discord, puis revenez.",
        "err_discord_down": "Discord ne répond pas. Rien n'a été changé : réessayez "
        "dans quelques minutes.",
        "err_homeserver_down": "Le serveur Matrix ne répond pas. Rien n'a été changé : "
        "réessayez dans quelques minutes.",
        "err_rate": "Trop d'essais. Attendez un peu avant de réessayer.",
        "err_name_taken": "Ce nom est déjà pris. Essayez-en un autre.",
        "err_name_too_short": "Ce nom est trop court (3 caractères au moins).",
        "err_name_too_long": "Ce nom est trop long (32 caractères au plus).",
        "err_name_bad_characters": "Utilisez seulement des lettres minuscules sans accent, "
        "des chiffres et . _ -",
        "err_name_reserved": "Ce nom est réservé. Choisissez-en un autre.",
        "err_password": "Le mot de passe doit faire 10 caractères au moins.",
        "err_login": "Nom d'utilisateur ou mot de passe incorrect.",
        "err_no_password_login": "Ce serveur n'accepte pas la connexion par mot de "
        "passe ici. Reliez votre compte avec la commande !link (voir l'aide).",
        "err_already_linked": "Ce compte Discord est déjà relié à {mxid}. Déliez-le "
        "d'abord si vous voulez en changer.",
        "err_registration_off": "La création de compte est fermée ici.",
        "err_already_created": "Un compte a déjà été créé pour ce compte Discord : "
        "{mxid}. Reliez-le avec son mot de passe ci-dessous.",
        "err_not_found": "Cette page n'existe pas.",
        "err_internal": "Une erreur de notre côté. Ce qui était fait est gardé : "
        "réessayez, ou prévenez les admins si cela revient.",
    },
    "en": {
        "title": "Join the party on Matrix",
        "intro": "The party has its own chat server. Log in with your Discord account: we "
        "check who you are and open the same rooms to you.",
        "login": "Log in with Discord",
        "hello": "Hello {name}!",
        "discord_as": "On Discord, you are {username}.",
        "your_rooms": "The rooms your roles open to you",
        "members_only": "members only",
        "no_rooms": "No room yet.",
        "no_member_role_one": "One members-only room is not in this list: your Discord "
        "account does not have the member role (yet). To get verified, ask a moderator on "
        "the Discord server. Once you have the role, an account linked here is invited to "
        "that room by itself.",
        "no_member_role": "{n} members-only rooms are not in this list: your Discord "
        "account does not have the member role (yet). To get verified, ask a moderator on "
        "the Discord server. Once you have the role, an account linked here is invited to "
        "those rooms by itself.",
        "sso_only_create": "This server creates accounts on its own login page (SSO). "
        "Press the button: create your account or log in there, then you come back "
        "here, linked and in the rooms.",
        "sso_create": "Create my account on the server's page",
        "linked_to": "Your Discord account is linked to {mxid}.",
        "create_title": "Create an account on the party's server",
        "username": "Username",
        "password": "Password (at least 10 characters)",
        "create": "Create my account",
        "link_title": "I already have a Matrix account",
        "link_hint": "Log in with your account on this server to link it.",
        "matrix_user": "Matrix username",
        "matrix_password": "Matrix password",
        "link": "Link this account",
        "link_sso": "Log in to the server to link my account",
        "unlink": "Unlink my Discord account",
        "rejoin": "Invite me to my rooms again",
        "logout": "Log out of this page",
        "done_title": "You are in the rooms",
        "next_steps": "What now?",
        "step_app": "Install the Element app (computer or phone), or open it in the browser:",
        "step_login": "Log in as {mxid} with your password.",
        "step_login_sso": "Log in as {mxid} through the server's login page (the same "
        "button as here).",
        "step_phone": "On your phone, scan this code:",
        "open_element": "Open Element",
        "unlinked": "Your Discord account is no longer linked.",
        "back": "Back",
        "kept_after_login": "The name you typed will be back in the form after you log in "
        "(the password you type again).",
        "error_title": "Something went wrong",
        "err_expired": "The login expired or did not come from this page. Nothing was "
        "changed: start again.",
        "err_denied": "You refused access on Discord. Nothing was changed.",
        "err_not_in_guild": "This Discord account is in none of the party's servers. "
        "Join the Discord server first, then come back.",
        "err_discord_down": "Discord does not answer. Nothing was changed: try again in "
        "a few minutes.",
        "err_homeserver_down": "The Matrix server does not answer. Nothing was changed: "
        "try again in a few minutes.",
        "err_rate": "Too many attempts. Wait a little before trying again.",
        "err_name_taken": "That name is taken. Try another one.",
        "err_name_too_short": "That name is too short (at least 3 characters).",
        "err_name_too_long": "That name is too long (at most 32 characters).",
        "err_name_bad_characters": "Use only lowercase letters without accents, digits and . _ -",
        "err_name_reserved": "That name is reserved. Choose another one.",
        "err_password": "The password needs at least 10 characters.",
        "err_login": "Wrong username or password.",
        "err_no_password_login": "This server does not take password logins here. Link "
        "your account with the !link command (see the help).",
        "err_already_linked": "This Discord account is already linked to {mxid}. Unlink "
        "it first to change.",
        "err_registration_off": "Account creation is closed here.",
        "err_already_created": "An account was already created for this Discord account: "
        "{mxid}. Link it with its password below.",
        "err_not_found": "This page does not exist.",
        "err_internal": "An error on our side. What was done is kept: try again, or "
        "tell the admins if it happens again.",
    },
}


def pick_lang(accept_language: str | None, chosen: str | None = None, default: str = "fr") -> str:
    """The language the member chose on the page, else the first supported one of
    their browser's Accept-Language header (quality-ordered), else ``default``."""
    if chosen in LANGS:
        return str(chosen)
    if not accept_language:
        return default
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, index, tag.strip().lower().split("-")[0]))
    for _, _, lang in sorted(ranked):
        if lang in LANGS:
            return lang
    return default


def texts(lang: str) -> Mapping[str, str]:
    return TEXTS.get(lang, TEXTS["fr"])
