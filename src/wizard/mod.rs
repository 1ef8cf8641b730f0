//! The interactive choosers: the engines' `Chooser` traits answered by a
//! person at a terminal (dialoguer). The unattended choosers live beside
//! their engines in [`crate::sync`].

pub mod calendar;
pub mod contacts;
pub mod init;
pub mod mail;
pub mod resolve;
pub mod screen;

use std::sync::LazyLock;

use dialoguer::theme::{ColorfulTheme, SimpleTheme, Theme};

/// The look of every wizard prompt (W12). With colours, the active row of
/// a list is shown by its colour; without (`NO_COLOR`, `CLICOLOR=0`, no
/// colour terminal) by a `>` before it, in multi-selects too, where the
/// colourful theme would show no cursor at all.
pub fn theme() -> &'static dyn Theme {
    static COLORFUL: LazyLock<ColorfulTheme> = LazyLock::new(ColorfulTheme::default);
    if console::colors_enabled_stderr() {
        &*COLORFUL
    } else {
        &SimpleTheme
    }
}

#[cfg(test)]
mod tests {
    /// W12: without colours, a multi-select's active row has a marker
    /// (the colourful theme shows it by colour alone).
    #[test]
    fn w12_multi_select_marks_the_active_row_without_colour() {
        console::set_colors_enabled_stderr(false);
        let row = |checked, active| {
            let mut s = String::new();
            super::theme()
                .format_multi_select_prompt_item(&mut s, "mail", checked, active)
                .unwrap();
            s
        };
        assert_eq!(row(true, true), "> [x] mail");
        assert_eq!(row(false, true), "> [ ] mail");
        assert_eq!(row(true, false), "  [x] mail");
    }
}
